// A streaming reader of a legacy server's event stream that hands each `data` line over in pieces
// as it arrives, so a 10 MB event never sits in memory whole (eventsource-parser, used on the
// 2026-07-28 side, collects an event's data into one string first). WHATWG event-stream rules:
// CR, LF or CRLF line ends, comment lines ignored, one leading space after the colon dropped.
const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const MAX_FIELD = 64 * 1024;

export interface SseSink {
  /** A piece of a data line; `lineStart` on the first piece of each data line (even an empty one). */
  data(piece: Buffer, lineStart: boolean): void | Promise<void>;
  /** A whole non-data field (event, id, retry, or an unknown one). */
  field(name: string, value: string): void;
  /** A blank line: the event is complete. */
  dispatch(): void | Promise<void>;
}

type State = 'name' | 'data' | 'value' | 'skip';

export class SseBytes {
  private state: State = 'name';
  private name: number[] = [];
  private value: Buffer[] = [];
  private valueSize = 0;
  private skipSpace = false;
  private lineStart = false;
  private afterCR = false;

  constructor(private readonly sink: SseSink) {}

  async push(chunk: Buffer): Promise<void> {
    const n = chunk.length;
    let i = 0;
    if (this.afterCR && n > 0 && chunk[0] === LF) i = 1;
    this.afterCR = false;
    while (i < n) {
      if (this.state === 'name') {
        const c = chunk[i]!;
        if (c === LF || c === CR) {
          i = this.lineEnd(chunk, i);
          const name = Buffer.from(this.name).toString('utf8');
          this.name = [];
          if (name === '') await this.sink.dispatch();
          else if (name === 'data') await this.sink.data(Buffer.alloc(0), true);
          else this.sink.field(name, '');
          continue;
        }
        i++;
        if (c !== COLON) {
          if (this.name.length < 64) this.name.push(c);
          continue;
        }
        const name = Buffer.from(this.name).toString('utf8');
        this.name = [];
        this.skipSpace = true;
        if (name === '') this.state = 'skip'; // a comment
        else if (name === 'data') {
          this.state = 'data';
          this.lineStart = true;
        } else {
          this.state = 'value';
          this.name = [...Buffer.from(name)];
        }
        continue;
      }
      // The rest of a line: up to its end, or the chunk's.
      let end = chunk.indexOf(LF, i);
      const cr = chunk.indexOf(CR, i);
      if (cr !== -1 && (end === -1 || cr < end)) end = cr;
      let piece = chunk.subarray(i, end === -1 ? n : end);
      if (this.skipSpace && piece.length > 0) {
        if (piece[0] === SPACE) piece = piece.subarray(1);
        this.skipSpace = false;
      }
      if (this.state === 'data') {
        if (piece.length > 0 || (end !== -1 && this.lineStart)) {
          const first = this.lineStart;
          this.lineStart = false;
          await this.sink.data(piece, first);
        }
      } else if (this.state === 'value' && this.valueSize < MAX_FIELD) {
        this.value.push(piece);
        this.valueSize += piece.length;
      }
      if (end === -1) return;
      i = this.lineEnd(chunk, end);
      if (this.state === 'value') {
        this.sink.field(Buffer.from(this.name).toString('utf8'), Buffer.concat(this.value).toString('utf8'));
        this.value = [];
        this.valueSize = 0;
        this.name = [];
      }
      this.state = 'name';
    }
  }

  /** Past the line end at `i` (CRLF counts once, also when split across chunks). */
  private lineEnd(chunk: Buffer, i: number): number {
    if (chunk[i] === CR) {
      if (i + 1 < chunk.length) return chunk[i + 1] === LF ? i + 2 : i + 1;
      this.afterCR = true;
    }
    return i + 1;
  }
}
