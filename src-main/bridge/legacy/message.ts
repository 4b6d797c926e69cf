// One JSON-RPC message from a legacy server, as bytes: a small one is kept whole (and parsed by
// the caller to route it); one past SMALL_BYTES goes to the client in pieces while it arrives,
// with only its head (id, method) scanned. Line breaks become spaces: in JSON they are only ever
// whitespace, and stdout carries one message per line.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeadScanner, type Head } from '../json-head.js';
import type { LongLine } from '../output.js';

export const SMALL_BYTES = 256 * 1024;
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

  constructor(private readonly sink: MessageSink) {}

  /** A piece of the body (line breaks inside are blanked). */
  async push(piece: Buffer): Promise<void> {
    if (piece.length === 0) return;
    blankLineBreaks(piece);
    if (this.out) {
      this.scanner!.push(piece);
      await this.out.write(piece);
      this.sinceCollect += piece.length;
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
    for (const p of parts) {
      this.scanner.push(p);
      await this.out.write(p);
    }
  }

  /** A data line of an SSE event (joined to the previous one with a space). */
  async dataLine(piece: Buffer, lineStart: boolean): Promise<void> {
    if (lineStart && this.lines++ > 0) await this.push(Buffer.from(SPACE));
    await this.push(piece);
  }

  /** The message is complete: its bytes when small, else undefined (already written). */
  end(): Buffer | undefined {
    if (this.out) {
      this.out.end();
      this.sink.wrote(this.scanner!.head);
      return undefined;
    }
    return Buffer.concat(this.parts, this.size);
  }

  /** The stream broke mid-message: close the line so the client can read on. */
  abort(): void {
    this.out?.end();
    this.parts = [];
  }
}
