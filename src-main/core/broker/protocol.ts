// The bridge <-> broker wire: newline-delimited JSON over a Unix socket (named pipe on Windows).
// Every line is validated; nothing here ever carries a token to anyone but the bridge that asked.
import type { ServerView } from '../manager/manager.js';

export const BROKER_PROTOCOL = 1;
export const MAX_BROKER_LINE = 1024 * 1024;

export type BrokerRequest =
  | { id: number; method: 'hello'; params: { client: string } }
  | { id: number; method: 'resolve'; params: { server: string } }
  | { id: number; method: 'headers'; params: { server: string } }
  | { id: number; method: 'getToken'; params: { server: string; minValiditySeconds: number; client?: string } }
  | { id: number; method: 'reportRejected'; params: { server: string; token: string; dpopRefused?: true } }
  | { id: number; method: 'waitForReauth'; params: { server: string; timeoutMs: number } }
  | { id: number; method: 'stepUp'; params: { server: string; scopes: string[] } }
  | { id: number; method: 'link'; params: { url: string; name?: string; client?: string } }
  | { id: number; method: 'refresh'; params: { server: string } }
  | { id: number; method: 'status'; params: Record<string, never> }
  | { id: number; method: 'subscribe'; params: Record<string, never> }
  | { id: number; method: 'signProof'; params: SignProofParams }
  | { id: number; method: 'resolveProxy'; params: { url: string } }
  /** The MCP client's name, when its initialize came after the bridge asked to link `url`: the consent card takes it. */
  | { id: number; method: 'nameClient'; params: { url: string; client: string } };

/** A DPoP proof for one request to the server (RFC 9449 §4): the broker signs, the key stays with it. */
export interface SignProofParams {
  server: string;
  /** The request's method. */
  htm: string;
  /** The request's URL; the broker drops query and fragment, and refuses another origin than the server's. */
  htu: string;
  /** base64url SHA-256 of the access token sent with the proof. */
  ath: string;
  /** The latest DPoP-Nonce the server sent this bridge, if any (kept by the broker per origin). */
  nonce?: string;
}

export type BrokerMethod = BrokerRequest['method'];

export interface TokenGrant {
  accessToken: string;
  expiresAt?: number;
  /** DPoP-bound: send it as `Authorization: DPoP …` with a proof from signProof. */
  dpop?: true;
}

export interface BrokerResults {
  hello: { protocol: number; pid: number; version: string };
  resolve: { server: ServerView | null };
  /** Per-server headers as written (`${VAR}` unexpanded): the bridge expands and sends them. */
  headers: { headers: Array<{ name: string; value: string }> };
  getToken: TokenGrant;
  reportRejected: TokenGrant;
  waitForReauth: TokenGrant;
  stepUp: TokenGrant;
  link: { server: ServerView };
  refresh: { server: ServerView; note?: string };
  status: { servers: ServerView[] };
  subscribe: { ok: true };
  signProof: { proof: string };
  /** The app's system proxy answer for a URL (PAC style, "PROXY host:port; DIRECT"); null: none known (a headless broker). */
  resolveProxy: { pac: string | null };
  nameClient: { ok: true };
}

export type BrokerResponse =
  | { id: number; result: unknown }
  | { id: number; error: { code: string; message: string; hint?: string } };

/** Events pushed to subscribers: metadata only, never tokens. */
export interface BrokerEvent {
  event: 'status';
  server: ServerView;
}

export class ProtocolError extends Error {}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (p: Record<string, unknown>, k: string, max = 4096): string => {
  const v = p[k];
  if (typeof v !== 'string' || !v || v.length > max) throw new ProtocolError(`"${k}" must be a non-empty string`);
  return v;
};
const num = (p: Record<string, unknown>, k: string, min: number, max: number, dflt: number): number => {
  const v = p[k] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ProtocolError(`"${k}" must be a number from ${min} to ${max}`);
  return v;
};

/** The MCP client's name (its `initialize` clientInfo.name), optional: printable, at most 100 characters. */
function clientOf(p: Record<string, unknown>): { client?: string } {
  const c = typeof p.client === 'string' ? [...p.client].filter((ch) => ch >= ' ' && ch !== '\u007f').join('').trim().slice(0, 100) : '';
  return c ? { client: c } : {};
}

/** Parses and validates one request line; throws ProtocolError with what was wrong. */
export function parseRequest(line: string): BrokerRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ProtocolError('not JSON');
  }
  if (!isObj(v)) throw new ProtocolError('not an object');
  const id = v.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new ProtocolError('"id" must be an integer');
  const p = isObj(v.params) ? v.params : {};
  switch (v.method) {
    case 'hello':
      return { id, method: 'hello', params: { client: typeof p.client === 'string' ? p.client.slice(0, 100) : 'unknown' } };
    case 'resolve':
      return { id, method: 'resolve', params: { server: str(p, 'server') } };
    case 'headers':
      return { id, method: 'headers', params: { server: str(p, 'server') } };
    case 'getToken':
      return { id, method: 'getToken', params: { server: str(p, 'server'), minValiditySeconds: num(p, 'minValiditySeconds', 0, 3600, 60), ...clientOf(p) } };
    case 'reportRejected':
      // dpopRefused: the server refused a DPoP-bound token and challenges only with Bearer.
      return { id, method: 'reportRejected', params: { server: str(p, 'server'), token: str(p, 'token', 64 * 1024), ...(p.dpopRefused === true ? { dpopRefused: true as const } : {}) } };
    case 'waitForReauth':
      return { id, method: 'waitForReauth', params: { server: str(p, 'server'), timeoutMs: num(p, 'timeoutMs', 0, 15 * 60_000, 60_000) } };
    case 'stepUp': {
      const scopes = p.scopes;
      if (!Array.isArray(scopes) || scopes.length > 100 || !scopes.every((s) => typeof s === 'string' && s.length > 0 && s.length < 256 && !/\s/.test(s))) {
        throw new ProtocolError('"scopes" must be a list of scope names');
      }
      return { id, method: 'stepUp', params: { server: str(p, 'server'), scopes: scopes as string[] } };
    }
    case 'link':
      return { id, method: 'link', params: { url: str(p, 'url'), ...(typeof p.name === 'string' && p.name ? { name: p.name.slice(0, 100) } : {}), ...clientOf(p) } };
    case 'refresh':
      return { id, method: 'refresh', params: { server: str(p, 'server') } };
    case 'status':
      return { id, method: 'status', params: {} };
    case 'subscribe':
      return { id, method: 'subscribe', params: {} };
    case 'signProof': {
      const htm = str(p, 'htm', 16);
      if (!/^[A-Z]+$/.test(htm)) throw new ProtocolError('"htm" must be an HTTP method in capitals');
      const ath = str(p, 'ath', 64);
      if (!/^[A-Za-z0-9_-]{43}$/.test(ath)) throw new ProtocolError('"ath" must be a base64url SHA-256 hash');
      const htu = str(p, 'htu', 8192);
      if (!URL.canParse(htu) || !/^https?:$/.test(new URL(htu).protocol)) throw new ProtocolError('"htu" must be an http(s) URL');
      // RFC 9449 §8: a nonce is an opaque string of printable ASCII (NQCHAR).
      const nonce = p.nonce;
      if (nonce !== undefined && (typeof nonce !== 'string' || !nonce || nonce.length > 1024 || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(nonce))) throw new ProtocolError('"nonce" must be a printable string');
      return { id, method: 'signProof', params: { server: str(p, 'server'), htm, htu, ath, ...(typeof nonce === 'string' ? { nonce } : {}) } };
    }
    case 'nameClient': {
      const c = clientOf(p);
      if (!c.client) throw new ProtocolError('"client" must be a printable name');
      return { id, method: 'nameClient', params: { url: str(p, 'url', 8192), client: c.client } };
    }
    case 'resolveProxy': {
      const url = str(p, 'url', 8192);
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new ProtocolError('"url" must be an http(s) URL');
      return { id, method: 'resolveProxy', params: { url } };
    }
    default:
      throw new ProtocolError(`unknown method ${JSON.stringify(String(v.method).slice(0, 50))}`);
  }
}

export { brokerAddress } from './address.js';

/** Splits a byte stream into lines, refusing any line over `max` bytes. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overflow = false;
  constructor(
    private readonly max: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.add(chunk.subarray(start));
        return;
      }
      this.add(chunk.subarray(start, nl));
      if (this.overflow) this.onOverflow();
      else if (this.size > 0) this.onLine(Buffer.concat(this.parts, this.size).toString('utf8'));
      this.parts = [];
      this.size = 0;
      this.overflow = false;
      start = nl + 1;
    }
  }

  private add(b: Buffer) {
    if (this.overflow || b.length === 0) return;
    this.size += b.length;
    if (this.size > this.max) {
      this.overflow = true;
      this.parts = [];
      return;
    }
    this.parts.push(b);
  }
}
