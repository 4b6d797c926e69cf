// One JSON-RPC message from a legacy server, as bytes: a small one is kept whole (and parsed by
// the caller to route it); one past SMALL_BYTES goes to the client in pieces while it arrives,
// with only its head (id, method) scanned. Line breaks become spaces: in JSON they are only ever
// whitespace, and stdout carries one message per line.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeadScanner, type Head } from '../json-head.js';
import type { LongLine } from '../output.js';

export const SMALL_BYTES = 256 * 1024;
/**
 * A large message goes to stdout in writes of at least this many bytes: the pieces a socket
 * hands over can be a few KB, and a client that joins its read buffer at every read (the SDK's
 * stdio ReadBuffer does) pays per read for all it holds so far. Measured: a 10 MB line in 16 KB
 * reads cost the SDK client 80 s, in 64 KB reads 3 s.
 */
const WRITE_BYTES = 256 * 1024;
/** Passed-on bytes between two young-generation collections while a large message streams. */
const COLLECT_EVERY = 4 * 1024 * 1024;

let collector: ((o: { type: 'minor' }) => void) | undefined | null = null;

/**
 * Every chunk fetch hands over is a fresh buffer that V8 frees only at its next collection, which
 * external memory alone triggers late (tens of MB). A minor collection every few MB keeps a large
 * message's footprint at a few chunks; it costs about a millisecond.
 */
function collectYoung(): void {
  if (collector === null) {
    try {
      setFlagsFromString('--expose-gc');
      collector = runInNewContext('gc') as (o: { type: 'minor' }) => void;
    } catch {
      collector = undefined;
    }
  }
  collector?.({ type: 'minor' });
}
const SPACE = Buffer.from(' ');

export interface MessageSink {
  /** A whole message of at most SMALL_BYTES. */
  whole(bytes: Buffer): void;
  /** The output, for a large message written in pieces. */
  long(): Promise<LongLine>;
  /** A large message has been written whole: route it by its head. */
  wrote(head: Head): void;
}

function blankLineBreaks(b: Buffer): Buffer {
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) b[i] = 0x20;
  for (let i = b.indexOf(0x0d); i !== -1; i = b.indexOf(0x0d, i + 1)) b[i] = 0x20;
  return b;
}

export class OneMessage {
  private parts: Buffer[] = [];
  private size = 0;
  private out: LongLine | undefined;
  private scanner: HeadScanner | undefined;
  private lines = 0;
  private sinceCollect = 0;
  /** Pieces of a large message not written yet (fewer than WRITE_BYTES). */
  private pending: Buffer[] = [];
  private pendingSize = 0;

  constructor(private readonly sink: MessageSink) {}

  /** A piece of the body (line breaks inside are blanked). */
  async push(piece: Buffer): Promise<void> {
    if (piece.length === 0) return;
    blankLineBreaks(piece);
    if (this.out) {
      this.scanner!.push(piece);
      this.pending.push(piece);
      this.pendingSize += piece.length;
      if (this.pendingSize < WRITE_BYTES) return;
      await this.flush();
      if (this.sinceCollect >= COLLECT_EVERY) {
        this.sinceCollect = 0;
        collectYoung();
      }
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
    if (this.size <= SMALL_BYTES) return;
    this.out = await this.sink.long();
    this.scanner = new HeadScanner();
    const parts = this.parts;
    this.parts = [];
    for (const p of parts) this.scanner.push(p);
    this.pending = parts;
    this.pendingSize = this.size;
    await this.flush();
  }

  /** Writes what is pending as one piece (synchronously handed to the output; resolves on drain). */
  private flush(): Promise<void> {
    const size = this.pendingSize;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, size);
    this.pending = [];
    this.pendingSize = 0;
    this.sinceCollect += size;
    return size > 0 ? this.out!.write(bytes) : Promise.resolve();
  }

  /** A data line of an SSE event (joined to the previous one with a space). */
  async dataLine(piece: Buffer, lineStart: boolean): Promise<void> {
    if (lineStart && this.lines++ > 0) await this.push(Buffer.from(SPACE));
    await this.push(piece);
  }

  /** The message is complete: its bytes when small, else undefined (already written). */
  end(): Buffer | undefined {
    if (this.out) {
      void this.flush();
      this.out.end();
      this.sink.wrote(this.scanner!.head);
      return undefined;
    }
    return Buffer.concat(this.parts, this.size);
  }

  /** The stream broke mid-message: close the line so the client can read on. */
  abort(): void {
    if (this.out) void this.flush();
    this.out?.end();
    this.parts = [];
  }
}
