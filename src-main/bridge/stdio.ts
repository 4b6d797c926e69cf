// The client side of the bridge: newline-delimited JSON-RPC on stdin/stdout. Our own splitter
// rather than the SDK's StdioServerTransport, so bad input gets a JSON-RPC error and not a crash.
import { JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

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
  // Validated by the SDK's schema, but the original object is forwarded: parsing strips fields.
  if (JSONRPCMessageSchema.safeParse(value).success) return { message: value as JSONRPCMessage };
  return { reply: errorLine(usableId(value), -32600, 'Invalid Request: not a JSON-RPC 2.0 message') };
}

function usableId(value: unknown): RequestId | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null;
  const id = (value as { id: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : null;
}
