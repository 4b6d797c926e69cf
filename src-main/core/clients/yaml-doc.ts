// YAML config text (Continue's config.yaml, Goose's config.yaml) through the `yaml` package's
// Document API, which keeps comments, key order and the style of the values it does not touch.
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import type { JsonValue } from './jsonc.js';

export class YamlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'YamlSyntaxError';
  }
}

// Aliases expand: a small file must not become a huge value ("billion laughs").
const MAX_ALIASES = 100;

export function parseYaml(text: string): { doc: Document; value: JsonValue } {
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { prettyErrors: true, uniqueKeys: true });
  const e = doc.errors[0];
  if (e) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    throw new YamlSyntaxError(e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), pos.line, pos.col);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw new YamlSyntaxError(err instanceof Error ? err.message : String(err), 1, 1);
  }
  // Plain JSON values from here on (a YAML key may be a number; a value may be a custom tag).
  return { doc, value: JSON.parse(JSON.stringify(value ?? null)) as JsonValue };
}

export function yamlText(doc: Document): string {
  // lineWidth 0: never fold a long command path over two lines.
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The index of the list item whose `name` is `name`, in the document's sequence at `path`. */
export function listIndex(doc: Document, path: readonly string[], name: string): number {
  const seq = doc.getIn(path, true);
  if (!isSeq(seq)) return -1;
  return seq.items.findIndex((it) => isMap(it) && it.get('name') === name);
}

export { isMap, isSeq };
