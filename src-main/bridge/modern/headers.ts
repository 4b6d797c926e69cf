// The 2026-07-28 request metadata headers: Mcp-Method, Mcp-Name and the Mcp-Param-* headers a
// tool asks for with `x-mcp-header`, with the spec's value encoding and annotation rules.

/** One tool parameter mirrored into `Mcp-Param-{name}`. */
export interface HeaderParam {
  name: string;
  /** The chain of `properties` keys from the schema root to the parameter. */
  path: string[];
}

export type ToolHeaders = { ok: true; params: HeaderParam[] } | { ok: false; reason: string };

/** RFC 9110 token characters (`1*tchar`). */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'boolean']);
const SENTINEL = /^=\?base64\?.*\?=$/s;

/** Keywords whose values are subschemas (or maps/arrays of them); anything else holds data. */
const SCHEMA_KEYWORDS = new Set(['items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'additionalProperties', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema']);
const SCHEMA_ARRAYS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a tool's `x-mcp-header` annotations. Invalid ones make the whole tool invalid: the client
 * must leave it out of `tools/list` (Streamable HTTP: "Custom Headers from Tool Parameters").
 */
export function toolHeaders(inputSchema: unknown): ToolHeaders {
  const params: HeaderParam[] = [];
  const seen = new Set<string>();
  let problem: string | undefined;

  const visit = (schema: unknown, path: string[] | undefined): void => {
    if (problem || !isObject(schema)) return;
    if ('x-mcp-header' in schema) {
      const name = schema['x-mcp-header'];
      const where = path ? path.join('.') || '(root)' : 'a non-property position';
      if (!path || path.length === 0) problem = `x-mcp-header at ${where}: only properties reachable through "properties" may be mirrored`;
      else if (typeof name !== 'string' || name === '') problem = `x-mcp-header of ${where} is empty or not a string`;
      else if (!TCHAR.test(name)) problem = `x-mcp-header "${printable(name)}" of ${where} is not an HTTP header token`;
      else if (!primitiveType(schema.type)) problem = `x-mcp-header "${name}" is on ${where}, whose type is not string, integer or boolean`;
      else if (seen.has(name.toLowerCase())) problem = `x-mcp-header "${name}" is used twice (names are case-insensitive)`;
      else {
        seen.add(name.toLowerCase());
        params.push({ name, path });
      }
      if (problem) return;
    }
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'properties' && isObject(value)) {
        for (const [prop, sub] of Object.entries(value)) visit(sub, path ? [...path, prop] : undefined);
      } else if (SCHEMA_MAPS.has(key) && isObject(value)) {
        for (const sub of Object.values(value)) visit(sub, undefined);
      } else if (SCHEMA_ARRAYS.has(key) && Array.isArray(value)) {
        for (const sub of value) visit(sub, undefined);
      } else if (SCHEMA_KEYWORDS.has(key)) {
        if (Array.isArray(value)) for (const sub of value) visit(sub, undefined);
        else visit(value, undefined);
      }
    }
  };
  visit(inputSchema, []);
  return problem ? { ok: false, reason: problem } : { ok: true, params };
}

function primitiveType(type: unknown): boolean {
  if (typeof type === 'string') return PRIMITIVE.has(type);
  // ["string", "null"]: an optional primitive; a null value simply omits the header.
  if (Array.isArray(type)) {
    const real = type.filter((t) => t !== 'null');
    return real.length === 1 && typeof real[0] === 'string' && PRIMITIVE.has(real[0]);
  }
  return false;
}

function printable(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/**
 * A header value per "Value Encoding": plain when it is visible ASCII without surrounding
 * whitespace, else `=?base64?…?=` of its UTF-8 bytes (tabs too, though RFC 9110 allows them:
 * proxies differ on them, and decoding is the same either way).
 */
export function encodeHeaderValue(value: string): string {
  const plain = !/[^\x20-\x7e]/.test(value) && value === value.trim() && !SENTINEL.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The decoded form of a header value (for servers and tests). */
export function decodeHeaderValue(value: string): string {
  const m = /^=\?base64\?(.*)\?=$/s.exec(value);
  return m ? Buffer.from(m[1] ?? '', 'base64').toString('utf8') : value;
}

/** A parameter value as header text; undefined when the header must be omitted. */
export function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return Number.isInteger(value) ? value.toFixed(0) : String(value);
  return undefined; // null, absent, or not a primitive: omitted
}

/** Mcp-Param-* headers for one call's arguments. */
export function paramHeaders(params: HeaderParam[], args: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of params) {
    let v: unknown = args;
    for (const key of p.path) v = isObject(v) ? v[key] : undefined;
    const text = headerText(v);
    if (text !== undefined) out[`Mcp-Param-${p.name}`] = encodeHeaderValue(text);
  }
  return out;
}

/** The `Mcp-Name` source for the methods that need one. */
export function mcpName(method: string, params: unknown): string | undefined {
  if (!isObject(params)) return undefined;
  if (method === 'tools/call' || method === 'prompts/get') return typeof params.name === 'string' ? params.name : undefined;
  if (method === 'resources/read') return typeof params.uri === 'string' ? params.uri : undefined;
  return undefined;
}
