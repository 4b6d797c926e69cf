// Errors people read. Messages say what was wrong and what to do, and never carry secrets.

export type ErrorCode =
  | 'usage'
  | 'discovery'
  | 'no-auth'
  | 'resource-mismatch'
  | 'issuer-mismatch'
  | 'no-pkce'
  | 'unsafe-url'
  | 'registration'
  | 'authorization'
  | 'denied'
  | 'state-mismatch'
  | 'iss-mismatch'
  | 'timeout'
  | 'network'
  | 'token'
  | 'needs-reauth'
  | 'not-found'
  | 'vault';

export class UserError extends Error {
  readonly code: ErrorCode;
  /** A short "what to do" line, shown after the message. */
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
    this.code = code;
    if (hint !== undefined) this.hint = hint;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
