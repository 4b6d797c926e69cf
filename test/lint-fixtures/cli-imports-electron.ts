// lint-as: src-main/cli/fixture.ts
import { shell } from 'electron/main';
export const s = shell;
