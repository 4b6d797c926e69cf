// lint-as: src-renderer/fixture.ts
import { readFileSync } from 'node:fs';
export const r = readFileSync;
