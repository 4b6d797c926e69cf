// The persistent store. One file, home/vault.json:
//   { version: 1, sealedWith, servers, clients, pending, sealed: base64(cipher.encrypt(JSON(secrets))) }
// Clear records and sealed secrets live in the same file so they always change together,
// atomically. Every read-modify-write runs under an inter-process lock, on fresh data.
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../platform/errors.js';
import { errnoCode, isPidDead, tempFilePattern } from './fs.js';
import { withLock } from './lock.js';
import { DIR_MODE, FILE_MODE, vaultLockPath, vaultPath } from './paths.js';
import type { Cipher, Clock, FileSystem, Logger } from '../platform/services.js';
import { defaultRedactor, type Redactor } from '../platform/redact.js';
import type { PendingOp, VaultData, VaultSecrets } from '../types.js';

export type VaultCorruptReason = 'unparseable' | 'undecryptable' | 'newer-version' | 'key-mismatch';

/** The vault file cannot be used. `keptAt` is where the file is now (moved aside, or in place). */
export class VaultCorruptError extends UserError {
  readonly path: string;
  readonly keptAt: string;
  readonly reason: VaultCorruptReason;
  constructor(reason: VaultCorruptReason, file: string, keptAt: string, message: string, hint: string, options?: { cause?: unknown }) {
    super('vault', message, hint, options);
    this.name = 'VaultCorruptError';
    this.reason = reason;
    this.path = file;
    this.keptAt = keptAt;
  }
}

/** Saving failed; the previous vault file is untouched. The message never contains secret values. */
export class VaultWriteError extends UserError {
  readonly path: string;
  readonly errno?: string;
  constructor(file: string, what: string, errno: string | undefined, options?: { cause?: unknown }) {
    super(
      'vault',
      `Could not save the vault to ${file}: ${what}. The previous vault file is unchanged.`,
      errno === 'ENOSPC' ? 'Free some disk space and try again.' : 'Check the permissions and free space of the data directory, then try again.',
      options,
    );
    this.name = 'VaultWriteError';
    this.path = file;
    if (errno !== undefined) this.errno = errno;
  }
}

export interface VaultOptions {
  home: string;
  fs: FileSystem;
  cipher: Cipher;
  clock: Clock;
  logger?: Logger;
  /** Secrets loaded or saved are registered here so they never reach logs. Default: the global one. */
  redactor?: Redactor;
  /** How long update() waits for another process's update. Default 30 s (updates may span an AS call). */
  lockTimeoutMs?: number;
  /** Delay before write retries; tests shorten it. */
  retryDelayMs?: number;
}

export function emptyVault(): VaultData {
  return { version: 1, servers: {}, clients: {}, secrets: { tokens: {}, clients: {} }, pending: [] };
}

const WRITE_ATTEMPTS = 3;
/** A pending op this old is abandoned even if its pid looks alive (pids get reused). */
const ABANDONED_OP_MS = 60 * 60 * 1000;

type Doc = Record<string, unknown>;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Vault {
  readonly home: string;
  readonly path: string;
  /** Things found and repaired at open, in words for people (leftover temp files, unfinished ops). */
  readonly startupReport: string[] = [];
  private readonly fs: FileSystem;
  private readonly cipher: Cipher;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly redactor: Redactor;
  private readonly lockPath: string;
  private readonly lockTimeoutMs: number;
  private readonly retryDelayMs: number;

  private constructor(o: VaultOptions) {
    this.home = o.home;
    this.path = vaultPath(o.home);
    this.lockPath = vaultLockPath(o.home);
    this.fs = o.fs;
    this.cipher = o.cipher;
    this.clock = o.clock;
    this.logger = o.logger;
    this.redactor = o.redactor ?? defaultRedactor;
    this.lockTimeoutMs = o.lockTimeoutMs ?? 30_000;
    this.retryDelayMs = o.retryDelayMs ?? 100;
  }

  /** Opens (and creates the home dir of) a vault; cleans up after processes that died mid-way. */
  static async open(o: VaultOptions): Promise<Vault> {
    const v = new Vault(o);
    await o.fs.mkdir(o.home, DIR_MODE);
    await v.locked(async () => {
      await v.removeLeftoverTemps();
      const d = await v.load(true);
      const now = v.clock.now();
      const dead = d.pending.filter((p) => p.pid !== process.pid && (isPidDead(p.pid) || now - p.startedAt > ABANDONED_OP_MS));
      if (dead.length === 0) return;
      for (const p of dead) v.report(describeUnfinished(p, d));
      d.pending = d.pending.filter((p) => !dead.includes(p));
      await v.save(d);
    });
    return v;
  }

  /** The vault as it is on disk now; an empty vault when there is no file yet. */
  async read(): Promise<VaultData> {
    try {
      return await this.load(false);
    } catch (err) {
      if (err instanceof NeedsLock) return this.locked(() => this.load(true));
      throw err;
    }
  }

  /**
   * Read-modify-write under the inter-process lock. `fn` gets fresh data to change in place;
   * if it throws nothing is written. Returns what `fn` returned.
   */
  async update<T>(fn: (d: VaultData) => T | Promise<T>): Promise<T> {
    return this.locked(async () => {
      const d = await this.load(true);
      const before = JSON.stringify(d);
      const result = await fn(d);
      // Skip the write (and its fsyncs) when fn only looked.
      if (JSON.stringify(d) !== before) await this.save(d);
      return result;
    });
  }

  /** A cheap fingerprint of the file on disk (a stat), so a long-lived reader can notice other processes' writes. */
  async stamp(): Promise<string> {
    try {
      const st = await fsp.stat(this.path);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return 'absent';
    }
  }

  /** Records an operation that will talk to the AS and then write; returns its id for endOp. */
  async beginOp(op: PendingOp['op'], serverId: string): Promise<string> {
    const id = randomUUID();
    await this.update((d) => {
      d.pending.push({ id, op, serverId, startedAt: this.clock.now(), pid: process.pid });
    });
    return id;
  }

  async endOp(id: string): Promise<void> {
    await this.update((d) => {
      d.pending = d.pending.filter((p) => p.id !== id);
    });
  }

  // ------------------------------------------------------------------------------ internals

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath, fn, { timeoutMs: this.lockTimeoutMs });
  }

  private report(line: string): void {
    this.startupReport.push(line);
    this.logger?.log('warn', line);
  }

  private async removeLeftoverTemps(): Promise<void> {
    // Called under the lock, and every writer holds the lock, so no temp file here is in use.
    let names: string[];
    try {
      names = await fsp.readdir(this.home);
    } catch {
      return;
    }
    const pattern = tempFilePattern(path.basename(this.path));
    for (const name of names) {
      const m = pattern.exec(name);
      if (m === null) continue;
      try {
        await this.fs.unlink(path.join(this.home, name));
        this.report(`Removed an unfinished vault write (${name}) left by process ${m[1]}; the vault itself was not affected.`);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') this.report(`Could not remove the leftover file ${path.join(this.home, name)}: ${errnoCode(err) ?? 'error'}.`);
      }
    }
  }

  /** Reads and decrypts. Unparseable files are moved aside only under the lock (NeedsLock otherwise). */
  private async load(underLock: boolean): Promise<VaultData> {
    let raw: Buffer;
    try {
      raw = await this.fs.readFile(this.path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return emptyVault();
      throw new UserError('vault', `Could not read the vault ${this.path}: ${errnoCode(err) ?? 'error'}.`, undefined, { cause: err });
    }

    let doc: unknown;
    try {
      doc = JSON.parse(raw.toString('utf8'));
    } catch {
      // The parser's message quotes the content; it is not repeated.
      return this.setAside(underLock, 'is not valid JSON');
    }
    if (!isRecord(doc)) return this.setAside(underLock, 'is not a vault (not a JSON object)');
    if (typeof doc.version === 'number' && doc.version > 1) {
      throw new VaultCorruptError(
        'newer-version',
        this.path,
        this.path,
        `The vault ${this.path} was written by a newer version of MCP Token Manager (format ${doc.version}); it was left in place, unchanged.`,
        'Update MCP Token Manager to use it.',
      );
    }
    if (doc.version !== 1 || !isRecord(doc.servers) || !isRecord(doc.clients) || typeof doc.sealed !== 'string') {
      return this.setAside(underLock, 'is not a vault (fields missing)');
    }

    if (typeof doc.sealedWith === 'string' && doc.sealedWith !== this.cipher.kind) {
      throw new VaultCorruptError(
        'key-mismatch',
        this.path,
        this.path,
        `The secrets in ${this.path} were sealed with '${doc.sealedWith}', but this process has '${this.cipher.kind}' (${this.cipher.description}). The file was left in place, unchanged.`,
        'Open it with the same setup that wrote it (desktop app vs. command line, keyring on or off).',
      );
    }

    const secrets = await this.unsealSecrets(doc);
    this.remember(secrets);
    return {
      version: 1,
      servers: doc.servers as VaultData['servers'],
      clients: doc.clients as VaultData['clients'],
      secrets,
      pending: Array.isArray(doc.pending) ? (doc.pending as PendingOp[]) : [],
      ...(isRecord(doc.idps) ? { idps: doc.idps as NonNullable<VaultData['idps']> } : {}),
    };
  }

  private async unsealSecrets(doc: Doc): Promise<VaultSecrets> {
    const fail = (cause: unknown): never => {
      throw new VaultCorruptError(
        'undecryptable',
        this.path,
        this.path,
        `The secrets in ${this.path} could not be decrypted with the ${this.cipher.description}. The file was left in place, unchanged.`,
        'If the key was lost or replaced (keyring reset, key file restored from elsewhere), put the right key back and try again. ' +
          `To start over instead, move ${this.path} away and link your servers again.`,
        { cause },
      );
    };
    let plain: Buffer;
    try {
      plain = await this.cipher.decrypt(Buffer.from(doc.sealed as string, 'base64'));
    } catch (err) {
      return fail(err);
    }
    try {
      const s = JSON.parse(plain.toString('utf8')) as unknown;
      if (!isRecord(s) || !isRecord(s.tokens) || !isRecord(s.clients)) return fail(new Error('decrypted secrets have the wrong shape'));
      return s as unknown as VaultSecrets;
    } catch (err) {
      return fail(err);
    } finally {
      plain.fill(0);
    }
  }

  private async setAside(underLock: boolean, why: string): Promise<never> {
    if (!underLock) throw new NeedsLock();
    const stamp = new Date(this.clock.now()).toISOString().replace(/[:.]/g, '-');
    let aside = `${this.path}.corrupt-${stamp}`;
    for (let n = 2; await this.fs.exists(aside); n++) aside = `${this.path}.corrupt-${stamp}-${n}`;
    try {
      await this.fs.rename(this.path, aside);
    } catch (err) {
      throw new VaultCorruptError(
        'unparseable',
        this.path,
        this.path,
        `The vault ${this.path} ${why}, and it could not be moved aside (${errnoCode(err) ?? 'error'}); it was left in place.`,
        `Move it away by hand (keep it: it may be recoverable), then try again.`,
        { cause: err },
      );
    }
    this.logger?.log('error', 'vault file unreadable; moved aside', { path: this.path, keptAt: aside });
    throw new VaultCorruptError(
      'unparseable',
      this.path,
      aside,
      `The vault ${this.path} ${why}. It was kept, unchanged, as ${aside}; a new empty vault will be used from now on.`,
      `Link your servers again. If you have a good copy of the vault, stop MCP Token Manager and put it back as ${this.path}.`,
    );
  }

  private remember(s: VaultSecrets): void {
    for (const t of Object.values(s.tokens)) {
      this.redactor.add(t.accessToken);
      this.redactor.add(t.refreshToken);
      this.redactor.add(t.idToken);
    }
    for (const c of Object.values(s.clients)) {
      this.redactor.add(c.clientSecret);
      this.redactor.add(c.registrationAccessToken);
      this.redactor.add(c.privateKeyPem);
    }
    for (const i of Object.values(s.idps ?? {})) {
      this.redactor.add(i.clientSecret);
      this.redactor.add(i.idToken);
      this.redactor.add(i.refreshToken);
    }
  }

  private async save(d: VaultData): Promise<void> {
    if (d.version !== 1 || !isRecord(d.servers) || !isRecord(d.clients) || !Array.isArray(d.pending) || !isRecord(d.secrets) || !isRecord(d.secrets.tokens) || !isRecord(d.secrets.clients)) {
      throw new VaultWriteError(this.path, 'the data to save is not a valid vault (a bug); nothing was written', undefined);
    }
    // Registered first, so even an error message that echoed a new secret would be redacted.
    this.remember(d.secrets);
    let text: string;
    const plain = Buffer.from(JSON.stringify(d.secrets), 'utf8');
    try {
      const sealed = await this.cipher.encrypt(plain);
      const doc = {
        version: 1,
        sealedWith: this.cipher.kind,
        servers: d.servers,
        clients: d.clients,
        pending: d.pending,
        ...(d.idps && Object.keys(d.idps).length ? { idps: d.idps } : {}),
        sealed: sealed.toString('base64'),
      };
      text = `${JSON.stringify(doc, null, 2)}\n`;
    } catch (err) {
      throw new VaultWriteError(this.path, `encrypting with the ${this.cipher.description} failed (${this.describeError(err)})`, errnoCode(err), { cause: err });
    } finally {
      plain.fill(0);
    }

    let last: unknown;
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      try {
        await this.fs.writeFileAtomic(this.path, text, FILE_MODE);
        return;
      } catch (err) {
        last = err;
        this.logger?.log('warn', 'vault write failed', { path: this.path, attempt, error: this.describeError(err) });
        if (attempt < WRITE_ATTEMPTS) await new Promise((r) => setTimeout(r, this.retryDelayMs * attempt));
      }
    }
    const code = errnoCode(last);
    const syscall = (last as { syscall?: unknown } | undefined)?.syscall;
    const what = code !== undefined
      ? `${code}${typeof syscall === 'string' ? ` (${syscall})` : ''} after ${WRITE_ATTEMPTS} attempts`
      : `${this.describeError(last)} after ${WRITE_ATTEMPTS} attempts`;
    throw new VaultWriteError(this.path, what, code, { cause: last });
  }

  /** errno code when there is one (never carries data); else the message, redacted and short. */
  private describeError(err: unknown): string {
    const code = errnoCode(err);
    if (code !== undefined) return code;
    const msg = err instanceof Error ? err.message : String(err);
    return this.redactor.redact(msg).slice(0, 200);
  }
}

/** Thrown inside load() when a file must be moved aside but the caller does not hold the lock. */
class NeedsLock extends Error {}

function describeUnfinished(p: PendingOp, d: VaultData): string {
  const name = d.servers[p.serverId]?.name ?? p.serverId;
  const at = new Date(p.startedAt).toISOString();
  const what = p.op === 'refresh' ? 'A refresh' : p.op === 'link' ? 'A link' : 'A revocation';
  const why = `the process (pid ${p.pid}) ended before it recorded the result`;
  const todo =
    p.op === 'refresh'
      ? `If the authorization server rotated the refresh token, the stored one may no longer work: run \`mcp-tokens refresh ${p.serverId}\`, and re-authorize if it fails.`
      : p.op === 'link'
        ? `Link it again if it is not listed.`
        : `The tokens may not have been revoked at the authorization server: run \`mcp-tokens revoke ${p.serverId}\` again.`;
  return `${what} of '${name}' started at ${at} did not finish: ${why}. ${todo}`;
}
