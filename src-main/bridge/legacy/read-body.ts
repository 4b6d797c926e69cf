// Reads a legacy server's response body into messages: a JSON body is one message (or a batch),
// an event stream one message per `message` event. Pieces go on as they arrive.
import { OneMessage, type MessageSink } from './message.js';
import { SseBytes } from './sse-bytes.js';

export interface EventInfo {
  /** The last `id:` seen (for resuming a Streamable HTTP stream). */
  lastId?: string;
  retryMs?: number;
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** Every chunk of a body; the reader is released when done or abandoned. */
async function* chunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Buffer> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value) yield asBuffer(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** A JSON body: one message, handed on in pieces. Rejects when the body breaks. */
export async function readJsonBody(body: ReadableStream<Uint8Array>, sink: MessageSink, onWhole: (bytes: Buffer) => void): Promise<void> {
  const m = new OneMessage(sink);
  try {
    for await (const c of chunks(body)) await m.push(c);
  } catch (err) {
    m.abort();
    throw err;
  }
  const bytes = m.end();
  if (bytes && bytes.length > 0) onWhole(bytes);
}

/**
 * An event stream: `onEvent` gets each small event's type and data; large `message` events go to
 * the client in pieces through the sink. Resolves when the stream ends; rejects when it breaks.
 */
export async function readEvents(body: ReadableStream<Uint8Array>, sink: MessageSink, onEvent: (event: string, data: Buffer) => void, info: EventInfo = {}): Promise<void> {
  let event = '';
  let current: OneMessage | undefined;
  const sse = new SseBytes({
    data: (piece, lineStart) => {
      current ??= new OneMessage(sink);
      return current.dataLine(piece, lineStart);
    },
    field: (name, value) => {
      if (name === 'event') event = value;
      else if (name === 'id' && !value.includes('\0')) info.lastId = value;
      else if (name === 'retry' && /^\d+$/.test(value)) info.retryMs = Number(value);
    },
    dispatch: () => {
      const m = current;
      const type = event || 'message';
      current = undefined;
      event = '';
      const bytes = m?.end();
      if (bytes) onEvent(type, bytes);
    },
  });
  try {
    for await (const c of chunks(body)) await sse.push(c);
  } finally {
    current?.abort(); // an event cut off by the end of the stream is not one
  }
}
