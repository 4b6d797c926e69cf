// lint-as: src-main/core/oauth/fixture.ts
import type { Api } from '../../../src-shared/contract.js';
export type A = Api;
