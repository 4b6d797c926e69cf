// What the legacy session needs from a transport (Streamable HTTP or HTTP+SSE), both of which
// carry JSON-RPC as bytes: lines from the client go out as they came, messages come back as bytes.
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { MessageSink } from './message.js';

export type Kind = 'streamable' | 'sse';

export interface Outgoing {
  /** The JSON-RPC text as the client wrote it. */
  body: string;
  /** Set for a request: the id key its answer will carry. */
  requestKey?: string;
  /** This is `notifications/initialized`. */
  initialized?: boolean;
}

export interface TransportHost extends MessageSink {
  url: URL;
  fetch: FetchLike;
  /** A POST's response stream ended: fail its request if it is still unanswered. */
  streamEnded(requestKey: string, why: string): void;
  /** Still waiting for this request's answer (a broken stream is then resumed). */
  waiting(requestKey: string): boolean;
}

export interface LegacyTransport {
  readonly kind: Kind;
  readonly sessionId: string | undefined;
  onerror?: (err: Error) => void;
  onclose?: () => void;
  /** Answered the standalone GET stream (any status), Streamable HTTP only. */
  onStandaloneAnswer?: () => void;
  start(): Promise<void>;
  send(m: Outgoing): Promise<void>;
  setProtocolVersion(v: string): void;
  /** Tells the server the session is over (Streamable HTTP; a no-op otherwise). */
  terminate(): Promise<void>;
  close(): Promise<void>;
}
