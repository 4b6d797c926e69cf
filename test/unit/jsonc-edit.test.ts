// Issue 16: the JSONC reader/editor runs on Microsoft's jsonc-parser. These pin what the swap
// must keep: an edit changes only the edited entry's bytes (comments, odd spacing, CRLF, tabs,
// trailing commas and a BOM elsewhere stay byte for byte), new text follows the file's EOL and
// indentation, and bad input is refused in words with the exact line and column.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigFileError, upsertBridgeEntry } from '../../src-main/core/clients/index.js';
import { applyEdits, JsonSyntaxError, parseTree, setEdits, toValue, withValue, type JsonValue, type Syntax } from '../../src-main/core/clients/jsonc.js';

const CRLF = '\r\n';
// Everything a hand-edited VS Code mcp.json may hold: a BOM, comments of both kinds, odd
// spacing around ':' and ',', tabs, CRLF, and trailing commas in objects and arrays.
const MESSY = [
  '\uFEFF// VS Code MCP servers\t(hand-edited)',
  '{',
  '\t"servers"  :   {',
  '\t\t"a" : { "type": "stdio",   "command": "a" }, // note a',
  '\t\t/* block */ "b":{"url":"https://b.example/mcp",},',
  '\t\t"mine": {',
  '\t\t\t// keep me',
  '\t\t\t"type": "stdio",',
  '\t\t\t"command": "old"  ,',
  '\t\t\t"args": [ "x" ,"y" ],',
  '\t\t},   /* after mine */',
  '\t},',
  '\t"inputs":[1,2,3,],   // tail',
  '}',
  '',
].join(CRLF);

function edit(text: string, syntax: Syntax, p: string[], value: JsonValue): string {
  const after = applyEdits(text, setEdits(text, parseTree(text, syntax).root, p, value));
  // The edit is exactly the intended change of value.
  expect(toValue(parseTree(after, syntax).root)).toEqual(withValue(toValue(parseTree(text, syntax).root), p, value));
  return after;
}

/** `after` is `before` with `inserted` put at `at`, and nothing else changed. */
function expectInsertion(before: string, after: string, at: number): string {
  const inserted = after.slice(at, at + after.length - before.length);
  expect(after.slice(0, at)).toBe(before.slice(0, at));
  expect(after.slice(at + inserted.length)).toBe(before.slice(at));
  return inserted;
}

/** New lines use the file's line ending only, and indentation made of its unit only. */
function expectStyle(inserted: string, eol: string, unit: string): void {
  const lines = inserted.split(eol);
  for (const l of lines) expect(l).not.toMatch(/[\r\n]/);
  for (const l of lines.slice(1)) expect(l).toMatch(new RegExp(`^(?:${unit.replace(/\t/g, '\\t')})+\\S`));
}

describe('an edit leaves every byte outside the edited entry unchanged', () => {
  it('adds an entry after the last one: only the new lines appear, with CRLF, tabs and the trailing comma the file uses', () => {
    const entry = { type: 'stdio', command: '/opt/mcp-tokens', args: ['bridge', 'srv-1'], env: { A: '1' } };
    const after = edit(MESSY, 'jsonc', ['servers', 'new'], entry);
    const at = MESSY.indexOf('   /* after mine */') + '   /* after mine */'.length;
    const inserted = expectInsertion(MESSY, after, at);
    expect(inserted).toBe(`${CRLF}\t\t"new": {${CRLF}\t\t\t"type": "stdio",${CRLF}\t\t\t"command": "/opt/mcp-tokens",${CRLF}\t\t\t"args": ["bridge", "srv-1"],${CRLF}\t\t\t"env": {${CRLF}\t\t\t\t"A": "1"${CRLF}\t\t\t}${CRLF}\t\t},`);
    expectStyle(inserted, CRLF, '\t');
  });

  it('changes one value inside an entry: only that value’s bytes change', () => {
    const after = edit(MESSY, 'jsonc', ['servers', 'mine', 'command'], '/opt/mcp-tokens');
    const s = MESSY.indexOf('"old"');
    expect(after).toBe(`${MESSY.slice(0, s)}"/opt/mcp-tokens"${MESSY.slice(s + '"old"'.length)}`);
    const args = MESSY.indexOf('[ "x" ,"y" ]');
    const after2 = edit(MESSY, 'jsonc', ['servers', 'mine', 'args'], ['bridge', 'srv-1']);
    expect(after2).toBe(`${MESSY.slice(0, args)}["bridge", "srv-1"]${MESSY.slice(args + '[ "x" ,"y" ]'.length)}`);
  });

  it('adds a key to a one-line object with a trailing comma: the object stays one line, nothing else moves', () => {
    const after = edit(MESSY, 'jsonc', ['servers', 'b', 'type'], 'http');
    const at = MESSY.indexOf('"https://b.example/mcp",') + '"https://b.example/mcp",'.length;
    expect(expectInsertion(MESSY, after, at)).toBe(' "type": "http",');
  });

  it('adds a top-level key: the trailing `// tail` comment stays on its line', () => {
    const after = edit(MESSY, 'jsonc', ['other'], { x: [1, 2] });
    const at = MESSY.indexOf('// tail') + '// tail'.length;
    // No comma was needed: the file already ends its last property with one.
    expect(expectInsertion(MESSY, after, at)).toBe(`${CRLF}\t"other": {${CRLF}\t\t"x": [1, 2]${CRLF}\t},`);
  });

  // Every combination of line ending, indentation, trailing comma and trailing comment: the
  // change is the new entry (and, without a trailing comma, one ',' after the last value).
  const EOLS = ['\n', '\r\n'];
  const UNITS = ['\t', '  ', '    '];
  const TAILS = ['', ' // last one', ' /* last */', '\t/* a */ // b'];
  for (const eol of EOLS) {
    for (const unit of UNITS) {
      for (const trailingComma of [false, true]) {
        for (const tail of TAILS) {
          const name = `${JSON.stringify(eol)} ${JSON.stringify(unit)} ${trailingComma ? 'trailing comma' : 'no trailing comma'} ${JSON.stringify(tail)}`;
          it(name, () => {
            const i1 = unit;
            const i2 = unit + unit;
            const last = `${i2}"last" :  {"command":"x"}`;
            const before = ['/* header */', '{', `${i1}"mcpServers": {  // mine`, `${i2}"first": {"command": "f", "args": [ ]},`, `${last}${trailingComma ? ',' : ''}${tail}`, `${i1}}${trailingComma ? ',' : ''}`, '}', ''].join(eol);
            const after = edit(before, 'jsonc', ['mcpServers', 'added'], { command: 'c', args: ['bridge', 'id'] });
            const valueEnd = before.indexOf(last) + last.length;
            const lineEnd = before.indexOf(eol, valueEnd);
            let rest = after;
            if (!trailingComma) {
              // The one ',' goes right after the last value, before its comment.
              expect(after.slice(0, valueEnd + 1)).toBe(`${before.slice(0, valueEnd)},`);
              rest = after.slice(0, valueEnd) + after.slice(valueEnd + 1);
            }
            const inserted = expectInsertion(before, rest, lineEnd);
            expect(inserted).toBe(`${eol}${i2}"added": {${eol}${i2}${unit}"command": "c",${eol}${i2}${unit}"args": ["bridge", "id"]${eol}${i2}}${trailingComma ? ',' : ''}`);
            expectStyle(inserted, eol, unit);
          });
        }
      }
    }
  }
});

describe('bad input is refused in words, at the exact line and column', () => {
  const CASES: Array<[string, Syntax, RegExp, number, number]> = [
    ['{ "a": 1, }', 'json', /^Trailing comma is not allowed in JSON/, 1, 11],
    ['[1, 2, ]', 'json', /^Trailing comma is not allowed in JSON/, 1, 8],
    ['{\n  "a": tru\n}', 'json', /^Unexpected "tru"/, 2, 8],
    ['{"a": "x\ny"}', 'json', /^Control character \(line break\) in string/, 1, 9],
    ['{\r\n  "a": "x\u0001"}', 'json', /^Control character in string/, 2, 10],
    ['{"a": "\\q"}', 'json', /^Invalid escape in string/, 1, 8],
    ['{"a": "ok\\\\", "b": "\\u12G4"}', 'json', /^Invalid \\u escape in string/, 1, 21],
    ['{"a": "open', 'json', /^Unterminated string/, 1, 7],
    ['{"a": 1} {}', 'json', /after the end of the document$/, 1, 10],
    ['{"a":\u00a01}', 'json', /^Unexpected character U\+00A0/, 1, 6],
    ['{\n  // c\n  "a": 1\n}', 'json', /^Comments are not allowed in JSON/, 2, 3],
    ['{"a": 1 /* open', 'jsonc', /^Unterminated comment/, 1, 9],
    ['{"a": [1, 2 3]}', 'json', /^Expected ',' or '\]'/, 1, 13],
    ['{\n  "a": 1\n  "b": 2\n}', 'jsonc', /^Expected ',' or '\}'/, 3, 3],
    ['{"a" 1}', 'json', /^Expected ':' after property name/, 1, 6],
    ['{"a": 1', 'json', /^Unexpected end of input/, 1, 8],
    ['{"a": 1.}', 'json', /^Invalid number/, 1, 7],
    ['{a: 1}', 'jsonc', /^Unexpected "a"/, 1, 2],
    [`${'['.repeat(600)}${']'.repeat(600)}`, 'json', /^Nesting too deep/, 1, 514],
  ];
  for (const [text, syntax, reason, line, column] of CASES) {
    it(`${syntax} ${JSON.stringify(text.slice(0, 40))}`, () => {
      let err: unknown;
      try {
        parseTree(text, syntax);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JsonSyntaxError);
      const e = err as JsonSyntaxError;
      expect(e.reason).toMatch(reason);
      expect([e.line, e.column]).toEqual([line, column]);
      expect(e.message).toBe(`${e.reason} at line ${line}, column ${column}`);
    });
  }

  it('a file nested far deeper than any config does not crash the reader', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseTree(deep, 'json')).toThrow(/^Nesting too deep at line 1, column \d+$/);
  });

  it('a BOM is not content, and "__proto__" is a plain key', () => {
    expect(toValue(parseTree('\uFEFF{"__proto__": {"x": 1}}', 'json').root)).toEqual(JSON.parse('{"__proto__": {"x": 1}}'));
  });
});

describe('a key written twice on the edit path', () => {
  let home: string;
  beforeEach(async () => {
    home = await fsp.mkdtemp(path.join(os.tmpdir(), 'mcpt-jsonc-'));
  });
  afterEach(async () => {
    await fsp.rm(home, { recursive: true, force: true });
  });

  it('is refused with both places named, and the file is not touched', async () => {
    const file = path.join(home, 'mcp.json');
    const text = '{\n  "servers": { "a": { "command": "a" } },\n  // later, by hand\n  "servers": { "b": { "command": "b" } }\n}\n';
    await fsp.writeFile(file, text);
    const err = await upsertBridgeEntry({ kind: 'vscode', server: { id: 'srv-1', name: 'Demo', url: 'https://d.example/mcp' }, file, launcher: { command: '/opt/mcp-tokens', args: [] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigFileError);
    const e = err as ConfigFileError;
    expect(e.message).toBe(`${file} cannot be changed safely: The key "servers" is in the same object twice, at line 2, column 3 and line 4, column 3.`);
    expect(e.hint).toMatch(/^Nothing was changed\. Keep only one of them/);
    expect([e.line, e.column]).toEqual([4, 3]);
    expect(await fsp.readFile(file, 'utf8')).toBe(text);
    expect(await fsp.readdir(home)).toEqual(['mcp.json']);
  });

  it('a duplicate elsewhere in the file is left alone, and reading takes the last one as JSON.parse does', () => {
    const text = '{"other": 1, "other": 2, "servers": {}}';
    expect(toValue(parseTree(text, 'json').root)).toEqual(JSON.parse(text));
    const after = edit(text, 'json', ['servers', 'x'], 1);
    expect(after.startsWith('{"other": 1, "other": 2, "servers": {')).toBe(true);
  });
});
