// lint-as: src-renderer/components/Fixture.tsx
import { Vault } from '../../src-main/core/vault/vault.js';
export const v = Vault;
