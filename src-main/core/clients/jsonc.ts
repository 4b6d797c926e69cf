// JSON / JSONC config text, parsed with Microsoft's jsonc-parser (what VS Code reads its own
// settings with) and edited in place: comments, key order, spacing and line endings survive.
// Strict mode is RFC 8259 JSON; JSONC mode adds // and /* */ comments and trailing commas.
// The deep ESM path: esbuild cannot follow the package's UMD `main` (its requires are dynamic).
import { applyEdits, createScanner, getLocation, parseTree as parseJsonc, printParseErrorCode, type Edit, type Node, type ParseError } from 'jsonc-parser/lib/esm/main.js';

export { applyEdits, type Edit as TextEdit };

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface Span {
  /** Offset of the first character. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

export interface PropNode {
  key: string;
  keyStart: number;
  value: JsonNode;
}

export type JsonNode =
  | (Span & { type: 'object'; props: PropNode[] })
  | (Span & { type: 'array'; items: JsonNode[] })
  | (Span & { type: 'string'; value: string })
  | (Span & { type: 'number'; value: number })
  | (Span & { type: 'boolean'; value: boolean })
  | (Span & { type: 'null'; value: null });

export type ObjectNode = Extract<JsonNode, { type: 'object' }>;

export type Syntax = 'json' | 'jsonc';

export class JsonSyntaxError extends Error {
  readonly offset: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units like editors count. */
  readonly column: number;
  readonly reason: string;
  constructor(reason: string, text: string, offset: number) {
    const { line, column } = lineColumn(text, offset);
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'JsonSyntaxError';
    this.reason = reason;
    this.offset = offset;
    this.line = line;
    this.column = column;
  }
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastBreak = i;
    }
  }
  return { line, column: offset - lastBreak };
}

export interface ParsedText {
  root: JsonNode;
}

const MAX_DEPTH = 512;

/** The first invalid escape or control character in a string token (its offset within `s`). */
function badInString(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) < 0x20) return i;
    if (s[i] !== '\\') continue;
    const ok = /^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.exec(s.slice(i + 1, i + 6));
    if (!ok) return i;
    i += ok[0].length;
  }
  return 0;
}

/** jsonc-parser's error code, in words a person can act on, at the exact character. */
function explain(text: string, e: ParseError): { reason: string; at: number } {
  const at = e.offset;
  const c = text[at];
  // Invisible or look-alike characters (a no-break space, U+2028) are named by code point.
  const token = c && !/[!-~\p{L}]/u.test(c) ? `character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : JSON.stringify(text.slice(at, at + Math.min(Math.max(e.length, 1), 20)));
  const end = (reason: string) => ({ reason: c === undefined ? 'Unexpected end of input' : reason, at });
  switch (printParseErrorCode(e.error)) {
    case 'InvalidCommentToken':
      return { reason: 'Comments are not allowed in JSON', at };
    case 'UnexpectedEndOfComment':
      return { reason: 'Unterminated comment', at };
    case 'PropertyNameExpected':
    case 'ValueExpected':
      if ((c === '}' || c === ']') && /,\s*$/.test(text.slice(0, at))) return { reason: 'Trailing comma is not allowed in JSON', at };
      return end(printParseErrorCode(e.error) === 'ValueExpected' ? `Expected a value, found ${token}` : 'Expected a property name in double quotes');
    case 'ColonExpected':
      return end(`Expected ':' after property name`);
    case 'CommaExpected':
      // Inside an array the path to the error ends in an index.
      return end(typeof getLocation(text, at).path.at(-1) === 'number' ? `Expected ',' or ']'` : `Expected ',' or '}'`);
    case 'CloseBraceExpected':
      return end(`Expected ',' or '}'`);
    case 'CloseBracketExpected':
      return end(`Expected ',' or ']'`);
    case 'EndOfFileExpected':
      return { reason: `Unexpected ${token} after the end of the document`, at };
    case 'UnexpectedEndOfString': {
      const stop = at + e.length; // the scanner stops a string at a line break
      return text[stop] === undefined ? { reason: 'Unterminated string', at } : { reason: 'Control character (line break) in string', at: stop };
    }
    case 'InvalidUnicode':
    case 'InvalidEscapeCharacter':
    case 'InvalidCharacter': {
      const bad = at + badInString(text.slice(at, at + e.length));
      const what = text[bad] !== '\\' ? 'Control character' : text[bad + 1] === 'u' ? 'Invalid \\u escape' : 'Invalid escape';
      return { reason: `${what} in string`, at: bad };
    }
    case 'InvalidNumberFormat':
    case 'UnexpectedEndOfNumber':
      return { reason: `Invalid number ${token}`, at };
    default:
      return end(`Unexpected ${token}`);
  }
}

function toNode(n: Node, text: string, depth: number): JsonNode {
  if (depth > MAX_DEPTH) throw new JsonSyntaxError('Nesting too deep', text, n.offset);
  const span = { start: n.offset, end: n.offset + n.length };
  const kids = n.children ?? [];
  switch (n.type) {
    case 'object':
      return { ...span, type: 'object', props: kids.map((p) => ({ key: p.children![0]!.value as string, keyStart: p.children![0]!.offset, value: toNode(p.children![1]!, text, depth + 1) })) };
    case 'array':
      return { ...span, type: 'array', items: kids.map((c) => toNode(c, text, depth + 1)) };
    case 'property':
      throw new Error('a property node outside an object');
    default:
      return { ...span, type: n.type, value: n.value as never };
  }
}

export function parseTree(text: string, syntax: Syntax): ParsedText {
  // A BOM is not content; a space keeps every offset where it is.
  const src = text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text;
  if (src.trim() === '') throw new JsonSyntaxError('The file is empty', text, text.length);
  const errors: ParseError[] = [];
  let tree: Node | undefined;
  try {
    tree = parseJsonc(src, errors, { disallowComments: syntax === 'json', allowTrailingComma: syntax === 'jsonc', allowEmptyContent: false });
  } catch (err) {
    // The parser recurses; a file nested thousands deep exhausts the stack.
    if (err instanceof RangeError) throw new JsonSyntaxError('Nesting too deep', text, 0);
    throw err;
  }
  if (errors[0]) {
    const { reason, at } = explain(src, errors[0]);
    throw new JsonSyntaxError(reason, text, at);
  }
  if (!tree) throw new JsonSyntaxError('The file is empty', text, text.length);
  return { root: toNode(tree, text, 0) };
}

/** The plain value of a node. Duplicate keys: the last one wins, as in JSON.parse. */
export function toValue(node: JsonNode): JsonValue {
  switch (node.type) {
    case 'object': {
      const o: { [key: string]: JsonValue } = {};
      for (const p of node.props) {
        // defineProperty: a "__proto__" key is data, not the prototype.
        Object.defineProperty(o, p.key, { value: toValue(p.value), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    case 'array':
      return node.items.map(toValue);
    default:
      return node.value;
  }
}

/** The property `key` of an object node; the last one when the key repeats (it is the one that counts). */
export function findProp(obj: ObjectNode, key: string): PropNode | undefined {
  for (let i = obj.props.length - 1; i >= 0; i--) if (obj.props[i]!.key === key) return obj.props[i];
  return undefined;
}

/** The node at `path` (object keys only), or undefined. */
export function nodeAt(root: JsonNode, path: readonly string[]): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const key of path) {
    if (node?.type !== 'object') return undefined;
    node = findProp(node, key)?.value;
  }
  return node;
}

// ------------------------------------------------------------------ text edits
// jsonc-parser's `modify` cannot be used for the text itself: with formatting options it
// re-lays whole lines around the insertion (a one-line `"a": { ... }` beside it is spread over
// lines), and without them the new property lands before the previous one's trailing `// note`;
// its `format` puts every array item on its own line. So where the text goes and how it is laid
// out is decided here, in the file's own style; the parser's scanner finds commas and comments.

interface Style {
  eol: string;
  unit: string;
}

/** The file's own line ending and indentation unit, so inserted text looks like the rest. */
export function detectStyle(text: string): Style {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let unit: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^([ \t]+)\S/.exec(line);
    if (!m) continue;
    const ws = m[1]!;
    if (ws.startsWith('\t')) return { eol, unit: '\t' };
    if (unit === undefined || ws.length < unit.length) unit = ws;
  }
  return { eol, unit: unit && unit.length <= 8 ? unit : '  ' };
}

export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function indentAt(text: string, offset: number): string {
  const ls = lineStartOf(text, offset);
  return /^[ \t]*/.exec(text.slice(ls, offset))![0];
}

export function firstOnLine(text: string, offset: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStartOf(text, offset), offset));
}

function isPrimitive(v: JsonValue): v is null | boolean | number | string {
  return v === null || typeof v !== 'object';
}

/** One-line form: `["a", "b"]`, `{ "k": 1 }`. */
export function inlineJson(v: JsonValue): string {
  if (isPrimitive(v)) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(inlineJson).join(', ')}]`;
  const keys = Object.keys(v);
  return keys.length ? `{ ${keys.map((k) => `${JSON.stringify(k)}: ${inlineJson(v[k]!)}`).join(', ')} }` : '{}';
}

/**
 * Multi-line form in the file's style; lines after the first start with `indent`.
 * Short arrays of plain values stay on one line, as people write `"args": [...]` by hand.
 */
export function prettyJson(v: JsonValue, indent: string, style: Style): string {
  if (isPrimitive(v)) return JSON.stringify(v);
  const inner = indent + style.unit;
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    const one = inlineJson(v);
    if (v.every(isPrimitive) && one.length + indent.length <= 100) return one;
    return `[${style.eol}${v.map((x) => inner + prettyJson(x, inner, style)).join(`,${style.eol}`)}${style.eol}${indent}]`;
  }
  const keys = Object.keys(v);
  if (!keys.length) return '{}';
  return `{${style.eol}${keys.map((k) => `${inner}${JSON.stringify(k)}: ${prettyJson(v[k]!, inner, style)}`).join(`,${style.eol}`)}${style.eol}${indent}}`;
}

/**
 * Where to put text that follows `offset` on the same line: past spaces and comments that end
 * on this line, so a trailing `// note` stays with the property it describes.
 */
export function endOfLineAfter(text: string, offset: number): number | undefined {
  const s = createScanner(text, false);
  s.setPosition(offset);
  for (;;) {
    s.scan();
    const at = s.getTokenOffset();
    const token = text.slice(at, at + s.getTokenLength());
    if (token === '' || s.getTokenError() !== 0) return undefined; // end of text, unterminated comment
    if (token[0] === '\n' || token[0] === '\r') return at;
    if (token.startsWith('//')) return at + token.length;
    const onThisLine = /^[ \t]+$/.test(token) || (token.startsWith('/*') && !/[\r\n]/.test(token));
    if (!onThisLine) return undefined;
  }
}

/** The offset of the comma after `offset` when only whitespace and comments sit between. */
export function commaAfter(text: string, offset: number): number | undefined {
  const s = createScanner(text, true);
  s.setPosition(offset);
  s.scan();
  return text[s.getTokenOffset()] === ',' ? s.getTokenOffset() : undefined;
}

function insertProp(text: string, obj: ObjectNode, key: string, value: JsonValue, style: Style): Edit[] {
  const k = JSON.stringify(key);
  const last = obj.props[obj.props.length - 1];
  if (!last) {
    const outer = indentAt(text, obj.start);
    const inner = outer + style.unit;
    const prop = `${k}: ${prettyJson(value, inner, style)}`;
    const between = text.slice(obj.start + 1, obj.end - 1);
    if (/^\s*$/.test(between)) {
      return [{ offset: obj.start + 1, length: between.length, content: `${style.eol}${inner}${prop}${style.eol}${outer}` }];
    }
    // Only comments inside: put the property first; the comments follow it.
    if (!between.includes('\n')) return [{ offset: obj.start + 1, length: 0, content: ` ${k}: ${inlineJson(value)}` }];
    return [{ offset: obj.start + 1, length: 0, content: `${style.eol}${inner}${prop}` }];
  }
  const comma = commaAfter(text, last.value.end);
  if (!firstOnLine(text, last.keyStart)) {
    // A one-line object stays one line.
    const prop = `${k}: ${inlineJson(value)}`;
    return comma === undefined ? [{ offset: last.value.end, length: 0, content: `, ${prop}` }] : [{ offset: comma + 1, length: 0, content: ` ${prop},` }];
  }
  const indent = indentAt(text, last.keyStart);
  const prop = `${k}: ${prettyJson(value, indent, style)}`;
  if (comma !== undefined) {
    // The file ends properties with a comma (JSONC); keep doing so.
    const at = endOfLineAfter(text, comma + 1) ?? comma + 1;
    return [{ offset: at, length: 0, content: `${style.eol}${indent}${prop},` }];
  }
  const at = endOfLineAfter(text, last.value.end);
  if (at === undefined) return [{ offset: last.value.end, length: 0, content: `,${style.eol}${indent}${prop}` }];
  return [
    { offset: last.value.end, length: 0, content: ',' },
    { offset: at, length: 0, content: `${style.eol}${indent}${prop}` },
  ];
}

function nest(path: readonly string[], value: JsonValue): JsonValue {
  let v = value;
  for (let i = path.length - 1; i >= 0; i--) v = { [path[i]!]: v };
  return v;
}

/** A key written twice in one object is ambiguous to edit (clients disagree on which counts). */
function assertSingle(text: string, obj: ObjectNode, key: string): void {
  const all = obj.props.filter((p) => p.key === key);
  if (all.length < 2) return;
  const where = all.map((p) => lineColumn(text, p.keyStart)).map((p) => `line ${p.line}, column ${p.column}`);
  const times = all.length === 2 ? 'twice' : `${all.length} times`;
  throw new JsonSyntaxError(`The key ${JSON.stringify(key)} is in the same object ${times}, at ${where.slice(0, -1).join('; ')} and ${where.at(-1)}`, text, all[1]!.keyStart);
}

/**
 * Edits that set `path` to `value` in the text `root` was parsed from, creating missing objects
 * on the way. Every object on the path that exists must be an object (callers check first).
 * Throws JsonSyntaxError when a key on the path is duplicated.
 */
export function setEdits(text: string, root: JsonNode, path: readonly string[], value: JsonValue): Edit[] {
  if (!path.length) throw new Error('setEdits needs a non-empty path');
  const style = detectStyle(text);
  let node: JsonNode = root;
  for (let i = 0; i < path.length; i++) {
    if (node.type !== 'object') throw new Error(`Not an object at ${path.slice(0, i).join('.') || '(root)'}`);
    const key = path[i]!;
    assertSingle(text, node, key);
    const prop = findProp(node, key);
    if (!prop) return insertProp(text, node, key, nest(path.slice(i + 1), value), style);
    if (i === path.length - 1) {
      const v = prop.value;
      // A value written on one line stays on one line; an empty `{}` placeholder may grow.
      const emptyObject = v.type === 'object' && v.props.length === 0;
      const oneLine = !firstOnLine(text, prop.keyStart) || (!text.slice(v.start, v.end).includes('\n') && !emptyObject);
      const content = oneLine ? inlineJson(value) : prettyJson(value, indentAt(text, prop.keyStart), style);
      return [{ offset: v.start, length: v.end - v.start, content }];
    }
    node = prop.value;
  }
  throw new Error('unreachable');
}

/** Structural equality; key order does not matter. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ao = a as { [k: string]: JsonValue };
  const bo = b as { [k: string]: JsonValue };
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** A copy of `root` with `path` set to `value` (objects created as needed). */
export function withValue(root: JsonValue, path: readonly string[], value: JsonValue): JsonValue {
  const copy = structuredClone(root);
  let o = copy as { [k: string]: JsonValue };
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = Object.hasOwn(o, k) ? o[k] : undefined;
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      const fresh: { [k: string]: JsonValue } = {};
      Object.defineProperty(o, k, { value: fresh, enumerable: true, writable: true, configurable: true });
      o = fresh;
    } else o = next as { [k: string]: JsonValue };
  }
  Object.defineProperty(o, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}
