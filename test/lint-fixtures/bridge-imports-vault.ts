// lint-as: src-main/bridge/fixture.ts
import { Vault } from '../core/vault/vault.js';
export const v = Vault;
