// lint-as: src-shared/fixture.ts
import { join } from 'node:path';
export const j = join;
