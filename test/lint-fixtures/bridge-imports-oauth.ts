// lint-as: src-main/bridge/fixture.ts
import { discover } from '../core/oauth/discovery.js';
export const d = discover;
