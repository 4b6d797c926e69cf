// A small JSON / JSONC parser that keeps offsets, so a client's config file can be changed
// by editing its text in place: comments, key order, spacing and line endings survive.
// Strict mode is RFC 8259 JSON; JSONC mode adds // and /* */ comments and trailing commas
// (what VS Code accepts in its mcp.json).

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
  hasComments: boolean;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseTree(text: string, syntax: Syntax): ParsedText {
  const jsonc = syntax === 'jsonc';
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a BOM is not content
  let hasComments = false;

  const fail = (reason: string, at = pos): never => {
    throw new JsonSyntaxError(reason, text, at);
  };

  const skip = () => {
    for (;;) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        pos++;
      } else if (c === '/' && (text[pos + 1] === '/' || text[pos + 1] === '*')) {
        if (!jsonc) fail('Comments are not allowed in JSON');
        hasComments = true;
        if (text[pos + 1] === '/') {
          while (pos < text.length && text[pos] !== '\n' && text[pos] !== '\r') pos++;
        } else {
          const close = text.indexOf('*/', pos + 2);
          if (close === -1) fail('Unterminated comment');
          pos = close + 2;
        }
      } else {
        return;
      }
    }
  };

  const describe = (c: string | undefined) => (c === undefined ? 'Unexpected end of input' : `Unexpected character ${JSON.stringify(c)}`);

  const parseString = (): Extract<JsonNode, { type: 'string' }> => {
    const start = pos;
    pos++; // opening quote
    for (;;) {
      if (pos >= text.length) fail('Unterminated string', start);
      const code = text.charCodeAt(pos);
      if (code === 0x22) break;
      if (code < 0x20) fail('Control character in string');
      if (code === 0x5c) {
        const e = text[pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) fail('Invalid \\u escape');
          pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail('Invalid escape in string');
        pos += 2;
        continue;
      }
      pos++;
    }
    pos++; // closing quote
    // The slice is now known-valid JSON, so the platform decoder gives the exact value.
    return { type: 'string', start, end: pos, value: JSON.parse(text.slice(start, pos)) as string };
  };

  const parseValue = (depth: number): JsonNode => {
    if (depth > 512) fail('Nesting too deep');
    skip();
    const c = text[pos];
    const start = pos;
    if (c === '{') {
      pos++;
      const props: PropNode[] = [];
      skip();
      if (text[pos] === '}') {
        pos++;
        return { type: 'object', start, end: pos, props };
      }
      for (;;) {
        skip();
        if (text[pos] !== '"') fail(text[pos] === '}' && props.length ? 'Trailing comma is not allowed in JSON' : pos >= text.length ? 'Unexpected end of input' : 'Expected a property name in double quotes');
        const key = parseString();
        skip();
        if (text[pos] !== ':') fail(`Expected ':' after property name`);
        pos++;
        const value = parseValue(depth + 1);
        props.push({ key: key.value, keyStart: key.start, value });
        skip();
        if (text[pos] === ',') {
          pos++;
          skip();
          if (text[pos] === '}' && jsonc) {
            pos++;
            return { type: 'object', start, end: pos, props };
          }
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return { type: 'object', start, end: pos, props };
        }
        fail(pos >= text.length ? 'Unexpected end of input' : `Expected ',' or '}'`);
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonNode[] = [];
      skip();
      if (text[pos] === ']') {
        pos++;
        return { type: 'array', start, end: pos, items };
      }
      for (;;) {
        skip();
        if (text[pos] === ']' && items.length) fail('Trailing comma is not allowed in JSON');
        items.push(parseValue(depth + 1));
        skip();
        if (text[pos] === ',') {
          pos++;
          skip();
          if (text[pos] === ']' && jsonc) {
            pos++;
            return { type: 'array', start, end: pos, items };
          }
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return { type: 'array', start, end: pos, items };
        }
        fail(pos >= text.length ? 'Unexpected end of input' : `Expected ',' or ']'`);
      }
    }
    if (c === '"') return parseString();
    if (c === 't' && text.startsWith('true', pos)) {
      pos += 4;
      return { type: 'boolean', start, end: pos, value: true };
    }
    if (c === 'f' && text.startsWith('false', pos)) {
      pos += 5;
      return { type: 'boolean', start, end: pos, value: false };
    }
    if (c === 'n' && text.startsWith('null', pos)) {
      pos += 4;
      return { type: 'null', start, end: pos, value: null };
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m) {
      pos += m[0].length;
      return { type: 'number', start, end: pos, value: Number(m[0]) };
    }
    return fail(describe(c));
  };

  skip();
  if (pos >= text.length) fail('The file is empty');
  const root = parseValue(0);
  skip();
  if (pos < text.length) fail(`${describe(text[pos])} after the end of the document`);
  return { root, hasComments };
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

export interface TextEdit {
  offset: number;
  length: number;
  content: string;
}

export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  // From the end backwards; at one offset, the edit listed first must end up first in the text.
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => b.e.offset - a.e.offset || b.i - a.i);
  let out = text;
  for (const { e } of sorted) out = out.slice(0, e.offset) + e.content + out.slice(e.offset + e.length);
  return out;
}

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

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function indentAt(text: string, offset: number): string {
  const ls = lineStartOf(text, offset);
  return /^[ \t]*/.exec(text.slice(ls, offset))![0];
}

function firstOnLine(text: string, offset: number): boolean {
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
function endOfLineAfter(text: string, offset: number): number | undefined {
  let p = offset;
  for (;;) {
    while (text[p] === ' ' || text[p] === '\t') p++;
    if (text[p] === '\n' || text[p] === '\r') return p;
    if (text.startsWith('//', p)) {
      while (p < text.length && text[p] !== '\n' && text[p] !== '\r') p++;
      return p;
    }
    if (text.startsWith('/*', p)) {
      const close = text.indexOf('*/', p + 2);
      if (close === -1 || text.slice(p, close).includes('\n')) return undefined;
      p = close + 2;
      continue;
    }
    return undefined;
  }
}

/** The offset of the comma after `offset` when only whitespace and comments sit between. */
function commaAfter(text: string, offset: number): number | undefined {
  let p = offset;
  for (;;) {
    const c = text[p];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') p++;
    else if (text.startsWith('//', p)) {
      while (p < text.length && text[p] !== '\n') p++;
    } else if (text.startsWith('/*', p)) {
      const close = text.indexOf('*/', p + 2);
      if (close === -1) return undefined;
      p = close + 2;
    } else return c === ',' ? p : undefined;
  }
}

function insertProp(text: string, obj: ObjectNode, key: string, value: JsonValue, style: Style): TextEdit[] {
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
    const at = endOfLineAfter(text, comma + 1);
    return at === undefined ? [{ offset: comma + 1, length: 0, content: `${style.eol}${indent}${prop},` }] : [{ offset: at, length: 0, content: `${style.eol}${indent}${prop},` }];
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

/**
 * Edits that set `path` to `value` in the text `root` was parsed from, creating missing objects
 * on the way. Every object on the path that exists must be an object (callers check first).
 */
export function setEdits(text: string, root: JsonNode, path: readonly string[], value: JsonValue): TextEdit[] {
  if (!path.length) throw new Error('setEdits needs a non-empty path');
  const style = detectStyle(text);
  let node: JsonNode = root;
  for (let i = 0; i < path.length; i++) {
    if (node.type !== 'object') throw new Error(`Not an object at ${path.slice(0, i).join('.') || '(root)'}`);
    const key = path[i]!;
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
