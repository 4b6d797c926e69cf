// The layer rules of docs/architecture.md are lint rules: each fixture breaks one, linted as if
// it stood at the path in its first line, with the repository's own eslint.config.js.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', 'lint-fixtures');
const eslint = new ESLint({ cwd: join(import.meta.dirname, '..', '..') });

async function importErrors(file: string): Promise<string[]> {
  const text = readFileSync(join(dir, file), 'utf8');
  const filePath = /^\/\/ lint-as: (\S+)/.exec(text)?.[1];
  if (!filePath) throw new Error(`${file} has no "// lint-as:" line`);
  const [result] = await eslint.lintText(text, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  const breaking = readdirSync(dir).filter((f) => f !== 'allowed.ts');
  it('has a fixture for each rule', () => expect(breaking.length).toBeGreaterThanOrEqual(8));
  for (const file of breaking) {
    it(`${file} fails lint`, async () => {
      expect(await importErrors(file)).not.toEqual([]);
    });
  }
  it('allowed imports pass', async () => {
    expect(await importErrors('allowed.ts')).toEqual([]);
  });
});
