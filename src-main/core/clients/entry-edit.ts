// One server entry in a client's config, whatever the file's format: read the entries, set one,
// remove some. Each edit touches only that entry's text (JSON/JSONC: the changed keys; TOML: the
// entry's table; YAML: through the Document API), and the result is re-parsed and compared with
// the intended content before anyone writes it.
import { ConfigFileError, editText, parseConfigText, type LoadedConfig, type SetOp } from './config-file.js';
import type { ClientDescriptor } from './descriptors.js';
import { commaAfter, endOfLineAfter, firstOnLine, jsonEqual, lineStartOf, nodeAt, parseTree, withValue, type JsonValue, type Syntax } from './jsonc.js';
import { detectEol, tableSpan, tableText } from './toml-doc.js';
import { stringify as yamlStringify } from 'yaml';
import { isMap, isSeq, listIndex, parseYaml, yamlText } from './yaml-doc.js';

type Obj = { [k: string]: JsonValue };

const UNTOUCHED = 'Nothing was changed. Fix the file (or move it aside to start a new one) and run the command again.';

function isObject(v: JsonValue | undefined): v is Obj {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
}

function valueAt(root: JsonValue, path: readonly string[]): JsonValue | undefined {
  let v: JsonValue | undefined = root;
  for (const k of path) {
    if (!isObject(v)) return undefined;
    v = Object.hasOwn(v, k) ? v[k] : undefined;
  }
  return v;
}

/** The entries of a client's file by name ({} when there are none); an error when the container is something else. */
export function entriesIn(cfg: LoadedConfig, d: ClientDescriptor, container: readonly string[] = d.container): Obj {
  const v = valueAt(cfg.value, container);
  if (v === undefined || (v === null && cfg.format === 'yaml')) return {};
  const where = container.join('.');
  if (d.list) {
    if (!Array.isArray(v)) throw new ConfigFileError(cfg.path, `In ${cfg.path}, "${where}" is not a list.`, UNTOUCHED);
    const out: Obj = {};
    for (const item of v) if (isObject(item) && typeof item.name === 'string' && !Object.hasOwn(out, item.name)) out[item.name] = item;
    return out;
  }
  if (!isObject(v)) throw new ConfigFileError(cfg.path, `In ${cfg.path}, "${where}" is not ${cfg.format === 'toml' ? 'a table' : cfg.format === 'yaml' ? 'a mapping' : 'an object'}.`, UNTOUCHED);
  return v;
}

/** The whole file's value with the entry set (or, with `undefined`, removed). */
function expectedValue(cfg: LoadedConfig, d: ClientDescriptor, container: readonly string[], name: string, entry: Obj | undefined): JsonValue {
  const base: JsonValue = cfg.blank && d.newFile ? { ...d.newFile } : cfg.value;
  if (d.list) {
    const list = valueAt(base, container);
    const items = Array.isArray(list) ? [...list] : [];
    const i = items.findIndex((it) => isObject(it) && it.name === name);
    if (entry === undefined) {
      if (i >= 0) items.splice(i, 1);
    } else if (i >= 0) items[i] = entry;
    else items.push(entry);
    return withValue(base, container, items);
  }
  if (entry !== undefined) return withValue(base, [...container, name], entry);
  const copy = structuredClone(base);
  const holder = valueAt(copy, container);
  if (isObject(holder)) delete holder[name];
  return copy;
}

function verify(cfg: LoadedConfig, text: string, expected: JsonValue): string {
  let check: JsonValue;
  try {
    check = parseConfigText(cfg.path, text, cfg.format).value;
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    // Only a file whose layout this edit cannot follow gets here (e.g. TOML with the table written inline).
    throw new ConfigFileError(cfg.path, `${cfg.path} cannot be changed safely: the edit would not leave a valid file.`, 'Nothing was changed. Add the entry by hand, or move the file aside to start a new one.', undefined, { cause: err });
  }
  if (!jsonEqual(check, expected)) throw new Error(`Internal error: the edit of ${cfg.path} did not produce the intended content; nothing was written.`);
  return text;
}

// ------------------------------------------------------------------ JSON / JSONC

function jsonSets(container: readonly string[], name: string, old: JsonValue | undefined, entry: Obj): SetOp[] {
  // Set only the keys that change, so comments inside an existing entry survive.
  if (!isObject(old)) return [{ path: [...container, name], value: entry }];
  return Object.keys(entry)
    .filter((k) => !jsonEqual(Object.hasOwn(old, k) ? old[k] : undefined, entry[k]))
    .map((k) => ({ path: [...container, name, k], value: entry[k]! }));
}

/**
 * The text without one property of the object at `container`: its lines (with a comment at the
 * end of its last line, which is about it) and the comma that joined it go; comments about the
 * properties around it stay, and the rest of the file is kept byte for byte.
 */
function withoutProp(text: string, syntax: Syntax, container: readonly string[], key: string): string {
  const { root } = parseTree(text, syntax);
  const obj = nodeAt(root, container);
  if (!obj || obj.type !== 'object') return text;
  const i = obj.props.findIndex((p) => p.key === key);
  if (i < 0) return text;
  const cut = (t: string, from: number, to: number) => t.slice(0, from) + t.slice(to);
  const props = obj.props;
  const prop = props[i]!;
  const last = i === props.length - 1;
  if (!firstOnLine(text, prop.keyStart)) {
    // A one-line object: the property and the comma before (or after) it.
    if (!last) return cut(text, prop.keyStart, props[i + 1]!.keyStart);
    if (i > 0) return cut(text, props[i - 1]!.value.end, prop.value.end);
    return cut(text, obj.start + 1, prop.value.end);
  }
  const comma = commaAfter(text, prop.value.end);
  const after = comma !== undefined ? comma + 1 : prop.value.end;
  const eol = endOfLineAfter(text, after);
  // Only spaces or a comment follow on its last line (else `eol` is undefined): the whole line goes.
  const nl = eol === undefined ? -1 : text.indexOf('\n', eol);
  const end = eol === undefined ? after : nl < 0 ? text.length : nl + 1;
  let out = cut(text, lineStartOf(text, prop.keyStart), end);
  if (last && comma === undefined && i > 0) {
    // It was the last one in a file without trailing commas: the comma before it goes too.
    const prevComma = commaAfter(out, props[i - 1]!.value.end);
    if (prevComma !== undefined) out = cut(out, prevComma, prevComma + 1);
  }
  return out;
}

// ------------------------------------------------------------------ TOML

function tomlTable(cfg: LoadedConfig, path: readonly string[]): { start: number; end: number } | undefined {
  const span = tableSpan(cfg.text, path);
  const exists = valueAt(cfg.value, path) !== undefined;
  if (span === 'scattered' || (span === undefined && exists)) {
    const header = `[${path.join('.')}]`;
    throw new ConfigFileError(
      cfg.path,
      `In ${cfg.path}, ${path.join('.')} is not written as one ${header} table (it is inline, in dotted keys, or split in parts), so it cannot be changed without touching other lines.`,
      `Nothing was changed. Write it as its own ${header} table (with its sub-tables right after it) and run the command again.`,
    );
  }
  return span;
}

/**
 * A table's run of text split in two: its own lines, and the blank and comment lines at its end
 * (a comment just above the next header describes what follows, so it stays).
 */
function splitTail(block: string): { body: string; tail: string[] } {
  const lines = block.split('\n');
  let k = lines.length;
  while (k > 0 && /^[ \t]*(#.*)?\r?$/.test(lines[k - 1]!)) k--;
  // `tail` joined with "\n" is what follows the body's last line break.
  return { body: lines.slice(0, k).join('\n'), tail: lines.slice(k) };
}

function tomlWithEntry(cfg: LoadedConfig, path: readonly string[], entry: Obj): string {
  const eol = detectEol(cfg.text);
  const block = tableText(path, entry, eol);
  const span = tomlTable(cfg, path);
  if (span) {
    const { tail } = splitTail(cfg.text.slice(span.start, span.end));
    return cfg.text.slice(0, span.start) + block + tail.join('\n') + cfg.text.slice(span.end);
  }
  if (cfg.blank) return block;
  const text = /\n$/.test(cfg.text) ? cfg.text : cfg.text + eol;
  return `${text}${eol}${block}`;
}

function tomlWithout(cfg: LoadedConfig, text: string, path: readonly string[]): string {
  const span = tomlTable({ ...cfg, text }, path);
  if (!span) return text;
  const { tail } = splitTail(text.slice(span.start, span.end));
  while (tail.length > 1 && /^[ \t]*\r?$/.test(tail[0]!)) tail.shift();
  const after = tail.join('\n').replace(/^[ \t]*\r?$/, '') + text.slice(span.end);
  let before = text.slice(0, span.start);
  // Removing the last table leaves no blank line dangling at the end of the file.
  if (after === '') before = before.replace(/(\r?\n)(?:[ \t]*\r?\n)+$/, '$1');
  return before + after;
}

// ------------------------------------------------------------------ YAML

/** The Document API's edit: always possible; the spacing around other values may be normalised. */
function yamlDocWithEntry(cfg: LoadedConfig, d: ClientDescriptor, container: readonly string[], name: string, old: JsonValue | undefined, entry: Obj): string {
  const { doc } = parseYaml(cfg.blank && d.newFile ? Object.entries(d.newFile).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('') : cfg.text);
  const node = (v: JsonValue) => doc.createNode(v);
  if (d.list) {
    const i = listIndex(doc, container, name);
    if (i >= 0 && isObject(old)) {
      for (const k of Object.keys(entry)) if (!jsonEqual(old[k], entry[k])) doc.setIn([...container, i, k], node(entry[k]!));
    } else if (isSeq(doc.getIn(container, true))) doc.addIn(container, node(entry));
    else doc.setIn(container, node([entry]));
  } else if (isObject(old) && isMap(doc.getIn([...container, name], true))) {
    for (const k of Object.keys(entry)) if (!jsonEqual(old[k], entry[k])) doc.setIn([...container, name, k], node(entry[k]!));
  } else if (isMap(doc.getIn(container, true))) doc.setIn([...container, name], node(entry));
  else doc.setIn(container, node({ [name]: entry }));
  return yamlText(doc);
}

/** `block` (lines of YAML) with every line but the first indented by `indent`. */
function indentRest(block: string, indent: string, eol: string): string {
  return block
    .replace(/\n$/, '')
    .split('\n')
    .map((l, i) => (i === 0 || l === '' ? l : indent + l))
    .join(eol);
}

/**
 * The entry spliced into the text at its node's place, so every other byte stays: a new item or
 * key after the container's last one, in its indentation, or an existing entry's text replaced.
 * Undefined where the layout is not a plain block collection (then the Document API does it).
 */
function yamlSplice(cfg: LoadedConfig, d: ClientDescriptor, container: readonly string[], name: string, old: JsonValue | undefined, entry: Obj): string | undefined {
  if (cfg.blank) return undefined;
  const { doc } = parseYaml(cfg.text.replace(/^\uFEFF/, ''));
  const bom = cfg.text.startsWith('\uFEFF') ? 1 : 0;
  const text = cfg.text.slice(bom);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const coll = doc.getIn(container, true);
  if (coll === undefined && container.length === 1 && isMap(doc.contents) && !doc.contents.flow && !doc.has(container[0])) {
    // No container yet: it goes at the end of the file, in the style the yaml package writes.
    const block = yamlStringify({ [container[0]!]: d.list ? [entry] : { [name]: entry } }, { lineWidth: 0 }).replace(/\n/g, eol);
    return `${cfg.text}${/\n$/.test(cfg.text) ? '' : eol}${block}`;
  }
  if ((!isSeq(coll) && !isMap(coll)) || coll.flow || !coll.items.length || !coll.range) return undefined;
  const col = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  const lineEnd = (offset: number) => (offset > 0 && text[offset - 1] === '\n' ? offset : text.indexOf('\n', offset) < 0 ? -1 : text.indexOf('\n', offset) + 1);
  const splice = (from: number, to: number, insert: string) => cfg.text.slice(0, bom + from) + insert + cfg.text.slice(bom + to);
  if (isSeq(coll)) {
    if (!coll.items.every((it) => isMap(it) && !it.flow && it.range)) return undefined;
    const items = coll.items as Array<{ range: [number, number, number] }>;
    const first = items[0]!.range[0];
    const dash = text.lastIndexOf('-', first - 1);
    if (dash < 0 || text.slice(text.lastIndexOf('\n', dash - 1) + 1, dash).trim() !== '') return undefined;
    const itemCol = col(first);
    const i = listIndex(doc, container, name);
    if (i >= 0) {
      if (!isObject(old)) return undefined;
      const r = items[i]!.range;
      const body = indentRest(yamlStringify(entry, { lineWidth: 0 }), ' '.repeat(itemCol), eol);
      return splice(r[0], r[1], body + (text[r[1] - 1] === '\n' ? eol : ''));
    }
    const at = lineEnd(items.at(-1)!.range[1]);
    const indent = ' '.repeat(col(dash));
    const block = indentRest(yamlStringify([entry], { lineWidth: 0 }), indent, eol);
    return at < 0 ? `${cfg.text}${eol}${indent}${block}${eol}` : splice(at, at, `${indent}${block}${eol}`);
  }
  const pairs = coll.items as Array<{ key: { range?: [number, number, number] } | null; value: { range?: [number, number, number] } | null }>;
  if (!pairs.every((p) => p.key?.range && p.value?.range)) return undefined;
  const keyCol = col(pairs[0]!.key!.range![0]);
  const pair = pairs.find((p) => isScalarKey(p.key, name));
  if (pair) {
    const v = pair.value as { range: [number, number, number] } | null;
    if (!isObject(old) || !isMap(v) || v.flow) return undefined;
    const r = v.range;
    if (text.slice(pair.key!.range![1], r[0]).indexOf('\n') < 0) return undefined;
    const body = indentRest(yamlStringify(entry, { lineWidth: 0 }), ' '.repeat(col(r[0])), eol);
    return splice(r[0], r[1], body + (text[r[1] - 1] === '\n' ? eol : ''));
  }
  const at = lineEnd(pairs.at(-1)!.value!.range![1]);
  const indent = ' '.repeat(keyCol);
  const block = indentRest(yamlStringify({ [name]: entry }, { lineWidth: 0 }), indent, eol);
  return at < 0 ? `${cfg.text}${eol}${indent}${block}${eol}` : splice(at, at, `${indent}${block}${eol}`);
}

function isScalarKey(key: unknown, name: string): boolean {
  return key !== null && typeof key === 'object' && 'value' in key && (key as { value: unknown }).value === name;
}

function yamlWithEntry(cfg: LoadedConfig, d: ClientDescriptor, container: readonly string[], name: string, old: JsonValue | undefined, entry: Obj, expected: JsonValue): string {
  let spliced: string | undefined;
  try {
    spliced = yamlSplice(cfg, d, container, name, old, entry);
  } catch {
    spliced = undefined;
  }
  if (spliced !== undefined) {
    try {
      return verify(cfg, spliced, expected);
    } catch {
      // A layout the splice did not foresee: the Document API below does it, checked the same way.
    }
  }
  return verify(cfg, yamlDocWithEntry(cfg, d, container, name, old, entry), expected);
}

function yamlDocWithout(text: string, d: ClientDescriptor, container: readonly string[], names: readonly string[]): string {
  const { doc } = parseYaml(text);
  for (const name of names) {
    if (d.list) {
      const i = listIndex(doc, container, name);
      if (i >= 0) doc.deleteIn([...container, i]);
    } else doc.deleteIn([...container, name]);
  }
  return yamlText(doc);
}

/** The text without one block entry's lines (from its dash or key to its end); undefined where the layout is not that plain. */
function yamlSpliceOut(text: string, d: ClientDescriptor, container: readonly string[], name: string): string | undefined {
  if (text.startsWith('\uFEFF')) return undefined;
  const { doc } = parseYaml(text);
  const coll = doc.getIn(container, true);
  if ((!isSeq(coll) && !isMap(coll)) || coll.flow) return undefined;
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  let from: number;
  let to: number;
  if (isSeq(coll)) {
    const i = listIndex(doc, container, name);
    const item = coll.items[i] as { range?: [number, number, number] } | undefined;
    if (!item?.range) return undefined;
    from = lineStart(item.range[0]);
    to = item.range[1];
  } else {
    const pair = (coll.items as Array<{ key: { range?: [number, number, number] } | null; value: { range?: [number, number, number] } | null }>).find((p) => isScalarKey(p.key, name));
    if (!pair?.key?.range || !pair.value?.range) return undefined;
    from = lineStart(pair.key.range[0]);
    to = pair.value.range[1];
  }
  if (text.slice(from, from + 200).trimStart().startsWith('#')) return undefined;
  if (to > 0 && text[to - 1] !== '\n') to = text.indexOf('\n', to) < 0 ? text.length : text.indexOf('\n', to) + 1;
  return text.slice(0, from) + text.slice(to);
}

function yamlWithout(cfg: LoadedConfig, d: ClientDescriptor, container: readonly string[], names: readonly string[], expected: JsonValue): string {
  let text: string | undefined = cfg.text;
  for (const n of names) {
    try {
      text = text === undefined ? undefined : yamlSpliceOut(text, d, container, n);
    } catch {
      text = undefined;
    }
  }
  if (text !== undefined) {
    try {
      return verify(cfg, text, expected);
    } catch {
      // Done by the Document API below instead.
    }
  }
  return verify(cfg, yamlDocWithout(cfg.text, d, container, names), expected);
}

// ------------------------------------------------------------------ the three operations

/** The file's new text with the entry `name` set to `entry`: added, or the changed keys of an existing one. */
export function textWithEntry(cfg: LoadedConfig, d: ClientDescriptor, name: string, entry: Obj, container: readonly string[] = d.container): string {
  const old = entriesIn(cfg, d, container)[name];
  const expected = expectedValue(cfg, d, container, name, entry);
  switch (cfg.format) {
    case 'json':
    case 'jsonc':
      if (d.list) throw new Error('a JSON list of entries is not supported');
      return verify(cfg, editText(cfg, cfg.format, jsonSets(container, name, old, entry)), expected);
    case 'toml':
      return verify(cfg, tomlWithEntry(cfg, [...container, name], entry), expected);
    case 'yaml':
      return yamlWithEntry(cfg, d, container, name, old, entry, expected);
  }
}

/** The file's new text without the named entries. */
export function textWithoutEntries(cfg: LoadedConfig, d: ClientDescriptor, names: readonly string[], container: readonly string[] = d.container): string {
  let expected: JsonValue = cfg.value;
  for (const n of names) expected = expectedValue({ ...cfg, value: expected as Obj, blank: false }, d, container, n, undefined);
  let text = cfg.text;
  switch (cfg.format) {
    case 'json':
    case 'jsonc':
      for (const n of names) text = withoutProp(text, cfg.format, container, n);
      break;
    case 'toml':
      for (const n of names) text = tomlWithout(cfg, text, [...container, n]);
      break;
    case 'yaml':
      return yamlWithout(cfg, d, container, names, expected);
  }
  return verify(cfg, text, expected);
}
