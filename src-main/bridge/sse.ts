// A Server-Sent Events reader for the 2026-07-28 response streams (the legacy side uses the SDK's).
// Follows the WHATWG event-stream rules: CR, LF or CRLF line ends, comment lines (":…") ignored,
// multi-line data joined with LF, and the `retry` field kept as the reconnection hint.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  /** The pieces of the current, unfinished line: a 20 MB data line is joined once, not per chunk. */
  private pieces: string[] = [];
  private lastWasCR = false;
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  /** Milliseconds from the last valid `retry:` field. */
  retryMs: number | undefined;

  constructor(private readonly onEvent: (e: SseEvent) => void) {}

  push(chunk: string): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 10 && this.lastWasCR && i === start && this.pieces.length === 0) {
        // The LF of a CRLF split across chunks (or right after the CR): not a second line end.
        this.lastWasCR = false;
        start = i + 1;
        continue;
      }
      this.pieces.push(chunk.slice(start, i));
      this.line(this.pieces.join(''));
      this.pieces = [];
      this.lastWasCR = c === 13;
      start = i + 1;
      if (c === 13 && chunk.charCodeAt(i + 1) === 10) {
        i++;
        start = i + 1;
        this.lastWasCR = false;
      }
    }
    if (start < chunk.length) {
      this.pieces.push(chunk.slice(start));
      this.lastWasCR = false;
    }
  }

  /** The stream ended: an event without its closing blank line is discarded, as the spec says. */
  end(): void {
    this.pieces = [];
    this.data = [];
    this.event = '';
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    const data = this.data;
    const event = this.event || 'message';
    this.data = [];
    this.event = '';
    if (data.length === 0) return; // e.g. a priming event that carries only an id or retry
    this.onEvent({ event, data: data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}) });
  }
}
