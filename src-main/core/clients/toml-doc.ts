// TOML config text (Codex's config.toml): parsed and checked with smol-toml, and one server's
// `[mcp_servers.<name>]` table (with its sub-tables) replaced, added or removed as text, so every
// other byte of the file stays. smol-toml cannot edit in place, so the table is found here, by
// its header lines; multi-line strings are skipped so a `[` inside one is not taken for a header.
import { parse, stringify, TomlError } from 'smol-toml';
import type { JsonValue } from './jsonc.js';

export class TomlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'TomlSyntaxError';
  }
}

export function parseToml(text: string): { [k: string]: JsonValue } {
  try {
    // Plain JSON values from here on: dates as their ISO text, big integers as their digits.
    const value = parse(text.replace(/^\uFEFF/, ''));
    return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as { [k: string]: JsonValue };
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // smol-toml's message is "Invalid TOML document: <reason>" and then an excerpt of the file.
    const reason = (err.message.split('\n')[0] ?? 'invalid TOML').replace(/^Invalid TOML document:\s*/i, '');
    throw new TomlSyntaxError(reason.charAt(0).toUpperCase() + reason.slice(1), err.line, err.column);
  }
}

interface Header {
  /** Offset of the line's first character. */
  start: number;
  /** The dotted key, unquoted. */
  key: string[];
}

/** `a."b.c".'d'` → ['a', 'b.c', 'd']; undefined when it is not a plain dotted key. */
function splitKey(s: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const ws = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  for (;;) {
    ws();
    if (s[i] === '"') {
      let j = i + 1;
      let v = '';
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\') {
          try {
            v += JSON.parse(`"${s.slice(j, j + (s[j + 1] === 'u' ? 6 : s[j + 1] === 'U' ? 10 : 2))}"`) as string;
          } catch {
            return undefined;
          }
          j += s[j + 1] === 'u' ? 6 : s[j + 1] === 'U' ? 10 : 2;
        } else v += s[j++];
      }
      if (s[j] !== '"') return undefined;
      out.push(v);
      i = j + 1;
    } else if (s[i] === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) return undefined;
      out.push(s.slice(i + 1, j));
      i = j + 1;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i));
      if (!m) return undefined;
      out.push(m[0]);
      i += m[0].length;
    }
    ws();
    if (i >= s.length) return out;
    if (s[i] !== '.') return undefined;
    i++;
  }
}

/** The multi-line string quote a line leaves open (a `key = """` whose string goes on), if any. */
function opensMultiline(line: string): '"""' | "'''" | undefined {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '#') return undefined;
    if (c !== '"' && c !== "'") continue;
    const triple = line.startsWith(c.repeat(3), i);
    const close = triple ? c.repeat(3) : c;
    let j = i + close.length;
    for (; j < line.length; j++) {
      if (c === '"' && line[j] === '\\') {
        j++;
        continue;
      }
      if (line.startsWith(close, j)) break;
    }
    if (j >= line.length) return triple ? (close as '"""' | "'''") : undefined;
    // A closing triple may be followed by up to two more quotes that belong to the string.
    i = j + close.length - 1;
    while (triple && line[i + 1] === c) i++;
  }
  return undefined;
}

/** Every table header (`[a.b]` and `[[a.b]]`) outside multi-line strings, in order. */
function headers(text: string): Header[] {
  const out: Header[] = [];
  let open: '"""' | "'''" | undefined;
  let at = 0;
  for (const line of text.split('\n')) {
    const start = at;
    at += line.length + 1;
    if (open) {
      // The string ends at the first closing quote triple on this line (an escaped one does not count).
      const body = open === '"""' ? line.replace(/\\./g, '  ') : line;
      if (body.includes(open)) open = undefined;
      continue;
    }
    const m = /^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?\r?$/.exec(line);
    if (m) {
      const key = splitKey(m[1]!);
      if (key) out.push({ start, key });
      continue;
    }
    open = opensMultiline(line);
  }
  return out;
}

function startsWith(key: string[], prefix: readonly string[]): boolean {
  return prefix.length <= key.length && prefix.every((k, i) => key[i] === k);
}

export interface TableSpan {
  start: number;
  end: number;
}

/**
 * Where the table `path` and its sub-tables are, as one run of text from its header to the next
 * header of anything else. Undefined when no header names it (missing, or written inline or with
 * dotted keys); an error when its sub-tables are not all together after it.
 */
export function tableSpan(text: string, path: readonly string[]): TableSpan | undefined | 'scattered' {
  const hs = headers(text);
  const i = hs.findIndex((h) => h.key.length === path.length && startsWith(h.key, path));
  const firstSub = hs.findIndex((h) => h.key.length > path.length && startsWith(h.key, path));
  if (i < 0) return firstSub < 0 ? undefined : 'scattered';
  let j = i + 1;
  while (j < hs.length && startsWith(hs[j]!.key, path)) j++;
  if (hs.slice(j).some((h) => startsWith(h.key, path)) || (firstSub >= 0 && firstSub < i)) return 'scattered';
  return { start: hs[i]!.start, end: j < hs.length ? hs[j]!.start : text.length };
}

/** The table as TOML text: `[a.b]`, its keys, then its sub-tables. */
export function tableText(path: readonly string[], value: { [k: string]: JsonValue }, eol: string): string {
  let nested: { [k: string]: JsonValue } = value;
  for (let i = path.length - 1; i >= 0; i--) nested = { [path[i]!]: nested };
  // stringify writes a header for each level that has keys of its own: only the innermost has.
  const text = stringify(nested).replace(/^\s+/, '');
  return text.replace(/\r?\n/g, eol).replace(new RegExp(`(${eol})+$`), '') + eol;
}

export function detectEol(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}
