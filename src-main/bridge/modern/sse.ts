// Server-Sent Events for the 2026-07-28 response streams, read with eventsource-parser (the
// WHATWG event-stream rules: CR, LF or CRLF line ends, comments ignored, multi-line data joined
// with LF, `retry` kept as the reconnection hint). The legacy byte path has its own streaming
// reader (legacy/sse-bytes.ts): this one holds a whole event in memory, which modern answers need.
import { createParser, type EventSourceParser } from 'eventsource-parser';

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private readonly parser: EventSourceParser;
  /** Milliseconds from the last valid `retry:` field. */
  retryMs: number | undefined;

  constructor(onEvent: (e: SseEvent) => void) {
    this.parser = createParser({
      onEvent: (e) => onEvent({ event: e.event ?? 'message', data: e.data, ...(e.id !== undefined ? { id: e.id } : {}) }),
      onRetry: (ms) => {
        this.retryMs = ms;
      },
    });
  }

  push(chunk: string): void {
    this.parser.feed(chunk);
  }

  /** The stream ended: an event without its closing blank line is discarded, as the spec says. */
  end(): void {
    this.parser.reset();
  }
}
