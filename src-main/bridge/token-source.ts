// What the bridge needs from whoever owns the tokens (the broker in production, a fake in tests).

/** The grant is dead or needs the person: the message is user-facing and holds no secret. */
export class BridgeAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BridgeAuthError';
  }
}

export interface TokenSource {
  /** A token valid for at least this long; throws BridgeAuthError when there is none. */
  getToken(minValiditySeconds: number): Promise<string>;
  /** The server answered 401 with `token`: refresh if it is still current; returns the token to use now. */
  reportRejected(token: string, why?: { dpopRefused?: boolean }): Promise<string>;
  /** The person re-approves with these scopes; returns the new token. */
  stepUp(scopes: string[]): Promise<string>;
  /** Per-server headers, already expanded: sent with every request to the server's origin, never elsewhere. */
  readonly headers?: ReadonlyArray<{ name: string; value: string }>;
  /** The client's own name from its `initialize` (for "last used by" in the app); optional. */
  setClient?(info: { name: string; version?: string }): void;
  /** Whether `token` is DPoP-bound (RFC 9449): then it goes as `Authorization: DPoP …` with a proof. */
  isDpop?(token: string): boolean;
  /**
   * A fresh proof for one request with a DPoP-bound token, signed by whoever holds the key (the
   * broker: the bridge never does). `nonce` is the latest DPoP-Nonce the server sent, if any.
   */
  proof?(p: { htm: string; htu: string; token: string; nonce?: string }): Promise<string>;
}

/**
 * For a server that asks for no authorization at all: the empty token means "send none".
 * authorizingFetch then adds no Authorization header, and a 401 becomes a "link it" message.
 */
export const NO_AUTH: TokenSource = {
  getToken: async () => '',
  reportRejected: async () => '',
  stepUp: async () => '',
};
