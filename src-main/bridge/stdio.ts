// The client side of the bridge: newline-delimited JSON-RPC on stdin/stdout. Our own splitter
// rather than the SDK's StdioServerTransport, so bad input gets a JSON-RPC error and not a crash.
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

export const MAX_LINE_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

/** Splits a byte stream into lines; a line longer than maxBytes is reported once and dropped. */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
  ) {}

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(NEWLINE, start);
      const end = nl === -1 ? buf.length : nl;
      if (!this.dropping && end > start) {
        if (this.size + (end - start) > this.maxBytes) {
          this.dropping = true;
          this.chunks = [];
          this.size = 0;
          this.onTooLong();
        } else {
          this.chunks.push(buf.subarray(start, end));
          this.size += end - start;
        }
      }
      if (nl === -1) return;
      this.flush();
      start = nl + 1;
    }
  }

  /** The input ended: a last line without a newline still counts. */
  end(): void {
    this.flush();
  }

  private flush(): void {
    const dropped = this.dropping;
    const line = dropped ? '' : Buffer.concat(this.chunks, this.size).toString('utf8');
    this.chunks = [];
    this.size = 0;
    this.dropping = false;
    if (!dropped) this.onLine(line);
  }
}

export interface ErrorLine {
  jsonrpc: '2.0';
  id: RequestId | null;
  error: { code: number; message: string; data?: unknown };
}

export function errorLine(id: RequestId | null, code: number, message: string): ErrorLine {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

export type Parsed = { message: JSONRPCMessage } | { reply: ErrorLine };

/** One input line to messages (a batch gives several) or to the errors to answer with. */
export function parseLine(line: string): Parsed[] {
  if (line.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return [{ reply: errorLine(null, -32700, `Parse error: ${err instanceof Error ? err.message : 'invalid JSON'}`) }];
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return [{ reply: errorLine(null, -32600, 'Invalid Request: empty batch') }];
    return value.map(check);
  }
  return [check(value)];
}

function check(value: unknown): Parsed {
  // The original object is forwarded (parsing with a schema would strip fields).
  if (isMessage(value)) return { message: value as JSONRPCMessage };
  return { reply: errorLine(usableId(value), -32600, 'Invalid Request: not a JSON-RPC 2.0 message') };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
const only = (o: Record<string, unknown>, keys: string[]) => Object.keys(o).every((k) => keys.includes(k));

/** The SDK's JSONRPCMessageSchema, by hand: the bridge's start-up does not load zod for it. */
function isMessage(v: unknown): boolean {
  if (!isObj(v) || v.jsonrpc !== '2.0') return false;
  if ('method' in v) {
    if (typeof v.method !== 'string' || !(v.params === undefined || isParams(v.params))) return false;
    return 'id' in v ? isId(v.id) && only(v, ['jsonrpc', 'id', 'method', 'params']) : only(v, ['jsonrpc', 'method', 'params']);
  }
  if ('result' in v) return isId(v.id) && isObj(v.result) && isMeta(v.result._meta) && only(v, ['jsonrpc', 'id', 'result']);
  if ('error' in v) {
    const e = v.error;
    if (!(v.id === undefined || isId(v.id)) || !isObj(e) || !Number.isInteger(e.code) || typeof e.message !== 'string') return false;
    return only(v, ['jsonrpc', 'id', 'error']);
  }
  return false;
}

function isParams(p: unknown): boolean {
  return isObj(p) && isMeta(p._meta);
}

function isMeta(m: unknown): boolean {
  if (m === undefined) return true;
  if (!isObj(m)) return false;
  const t = m.progressToken;
  return t === undefined || typeof t === 'string' || (typeof t === 'number' && Number.isInteger(t));
}

function usableId(value: unknown): RequestId | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  const id = (value as { id: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : null;
}
