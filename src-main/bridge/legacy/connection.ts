// One legacy session with the server (a transport and its state), and what the legacy side
// needs from the bridge.
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Output } from '../output.js';
import type { Pending, RequestTable } from '../requests.js';
import type { ErrorLine } from '../stdio.js';
import type { BridgeAuthError } from '../token-source.js';
import type { Kind, LegacyTransport } from './transport.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Answer = { jsonrpc: '2.0'; id?: string | number | null; result?: Record<string, unknown>; error?: { code: number; message: string } };

export interface LegacyConnection {
  transport: LegacyTransport;
  kind: Kind;
  started: boolean;
  /** We closed it (or are closing it): its close is not a loss. */
  closing: boolean;
  lost: boolean;
  /** The last auth failure its fetch threw; the event stream reports it only as text. */
  authError?: BridgeAuthError;
  /**
   * Settles once the server has answered the standalone GET stream opened after
   * `notifications/initialized` (or after a short wait). Server-initiated requests go on that
   * stream, and servers drop them while it is not open yet, so requests wait for it.
   */
  streamReady?: Promise<void>;
  onStandaloneAnswer?: () => void;
}

export interface LegacyHost {
  url: URL;
  serverUrl: string;
  dataDir: string | undefined;
  timeoutMs: number;
  output: Output;
  requests: RequestTable;
  /** An authorizing fetch for one transport. */
  authFetch(onAuthError: (e: BridgeAuthError) => void): FetchLike;
  write(msg: object): void;
  finish(p: Pending, reply: ErrorLine | object): void;
  internalId(): string;
  failure(err: unknown): { code: number; message: string };
  /** Why the probe took the server for a legacy one, if it did. */
  probeNote(): string | undefined;
  stopping(): boolean;
  track(p: Promise<void>): void;
  log(level: Level, msg: string): void;
}
