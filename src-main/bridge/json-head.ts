// Finds a JSON-RPC message's top-level `id` and `method` (and whether it is an answer) in its
// bytes as they stream past, without building the object: a 10 MB result costs a scan, not a
// parse. Strings are skipped with indexOf, so the scan runs at memchr speed.
export type RpcId = string | number | null;

export interface Head {
  id?: RpcId;
  method?: string;
  /** Has a top-level `result` or `error`. */
  answer: boolean;
}

const Q = 0x22;
const BS = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const MAX_CAPTURE = 1024;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class HeadScanner {
  readonly head: Head = { answer: false };
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectKey = false;
  private key = '';
  /** The top-level key whose value comes next ('' when none). */
  private valueOf = '';
  /** Bytes of a top-level key or of an id/method value being read; null when not capturing. */
  private capture: number[] | null = null;
  private capturingKey = false;
  private primitive: string | null = null;

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    let i = 0;
    let nextBs = -2; // cached position of the next backslash in this chunk (-1: none)
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          this.capture?.push(BS, buf[i]!);
          i++;
          continue;
        }
        if (nextBs !== -1 && nextBs < i) nextBs = buf.indexOf(BS, i);
        const q = buf.indexOf(Q, i);
        const end = q === -1 ? n : q;
        if (nextBs !== -1 && nextBs < end) {
          this.take(buf, i, nextBs);
          i = nextBs + 1;
          this.escaped = true;
          continue;
        }
        this.take(buf, i, end);
        if (q === -1) return;
        i = q + 1;
        this.inString = false;
        this.endString();
        continue;
      }
      const c = buf[i++]!;
      if (this.depth === 1 && this.primitive !== null) {
        if (c === COMMA || c === RBRACE || isSpace(c)) this.endPrimitive();
        else {
          if (this.primitive.length < MAX_CAPTURE) this.primitive += String.fromCharCode(c);
          continue;
        }
      }
      if (c === Q) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.capture = [];
          this.capturingKey = true;
        } else if (this.depth === 1 && (this.valueOf === 'id' || this.valueOf === 'method')) {
          this.capture = [];
          this.capturingKey = false;
        }
      } else if (c === LBRACE || c === LBRACK) {
        this.depth++;
        this.expectKey = this.depth === 1 && c === LBRACE;
      } else if (c === RBRACE || c === RBRACK) {
        this.depth--;
      } else if (this.depth === 1) {
        if (c === COLON) {
          this.valueOf = this.key;
          this.expectKey = false;
        } else if (c === COMMA) {
          this.valueOf = '';
          this.expectKey = true;
        } else if (!isSpace(c) && this.valueOf) {
          this.primitive = String.fromCharCode(c);
        }
      }
    }
  }

  private take(buf: Buffer, from: number, to: number): void {
    const cap = this.capture;
    if (!cap || to <= from) return;
    for (let k = from; k < to && cap.length < MAX_CAPTURE; k++) cap.push(buf[k]!);
  }

  private endString(): void {
    const cap = this.capture;
    this.capture = null;
    if (!cap || this.depth !== 1) return;
    let text: string;
    try {
      text = JSON.parse(`"${Buffer.from(cap).toString('utf8')}"`) as string;
    } catch {
      return;
    }
    if (this.capturingKey) {
      this.key = text;
      if (text === 'result' || text === 'error') this.head.answer = true;
    } else if (this.valueOf === 'id') this.head.id = text;
    else if (this.valueOf === 'method') this.head.method = text;
    this.valueOf = this.capturingKey ? this.valueOf : '';
  }

  private endPrimitive(): void {
    const p = this.primitive;
    this.primitive = null;
    if (this.valueOf === 'id' && p !== null) {
      if (p === 'null') this.head.id = null;
      else if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(p)) this.head.id = Number(p);
    }
    this.valueOf = '';
  }
}

/** The head of a whole message, scanned (for tests and the rare long input line). */
export function scanHead(bytes: Uint8Array): Head {
  const s = new HeadScanner();
  s.push(bytes);
  return s.head;
}
