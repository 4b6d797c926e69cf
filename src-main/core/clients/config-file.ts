// Reading and changing a client's config file without losing anything of the user's: the text
// is edited in place (never re-serialised), the result is re-parsed and checked to be exactly
// the intended change, a timestamped backup is written first, and the new file replaces the
// old atomically. A file that does not parse is never touched.
import { constants as fsc } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../platform/errors.js';
import { errnoCode, writeFileAtomic } from '../vault/fs.js';
import { applyEdits, jsonEqual, JsonSyntaxError, parseTree, setEdits, toValue, withValue, type JsonNode, type JsonValue, type Syntax } from './jsonc.js';
import type { FileFormat } from './descriptors.js';
import { parseToml, TomlSyntaxError } from './toml-doc.js';
import { parseYaml, YamlSyntaxError } from './yaml-doc.js';

/** The file operations this module needs; node:fs backs it, tests may inject failures. */
export interface ClientFs {
  readFile(p: string): Promise<Buffer>;
  /** Temp file in the same dir, fsync, rename over. */
  writeFileAtomic(p: string, data: string | Buffer, mode: number): Promise<void>;
  /** Recursive; the client's own dirs, so the umask decides the mode. */
  mkdir(p: string): Promise<void>;
  /** Permission bits of the file, or undefined when there is none. */
  mode(p: string): Promise<number | undefined>;
  realpath(p: string): Promise<string>;
  readdir(p: string): Promise<string[]>;
  unlink(p: string): Promise<void>;
  /** What is at `p` itself (a symlink is not followed). */
  entryType(p: string): Promise<EntryType>;
}

export type EntryType = 'missing' | 'file' | 'symlink' | 'fifo' | 'directory' | 'other';

function typeOf(st: import('node:fs').Stats): EntryType {
  return st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isDirectory() ? 'directory' : 'other';
}

/** Thrown by readFile for anything but a regular file (a FIFO would block a plain read forever). */
export class NotRegularFile extends Error {
  readonly code = 'ENOTREG';
  constructor(readonly type: EntryType) {
    super(`not a regular file (${type})`);
  }
}

// O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting; fstat then refuses it.
async function readRegularFile(p: string): Promise<Buffer> {
  const h = await fsp.open(p, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0));
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new NotRegularFile(typeOf(st));
    return await h.readFile();
  } finally {
    await h.close();
  }
}

export const nodeClientFs: ClientFs = {
  readFile: readRegularFile,
  writeFileAtomic: (p, data, mode) => writeFileAtomic(p, data, mode),
  async mkdir(p) {
    await fsp.mkdir(p, { recursive: true });
  },
  async mode(p) {
    try {
      return (await fsp.stat(p)).mode & 0o777;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  },
  realpath: (p) => fsp.realpath(p),
  readdir: (p) => fsp.readdir(p),
  unlink: (p) => fsp.unlink(p),
  async entryType(p) {
    try {
      return typeOf(await fsp.lstat(p));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 'missing';
      throw err;
    }
  },
};

/** A config file that cannot be used as it is; nothing was written. */
export class ConfigFileError extends UserError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(file: string, message: string, hint: string, pos?: { line: number; column: number }, options?: { cause?: unknown }) {
    // ErrorCode has no entry for client config files; 'vault' is the closest ("local data"), exit 1.
    super('vault', message, hint, options);
    this.name = 'ConfigFileError';
    this.file = file;
    this.line = pos?.line;
    this.column = pos?.column;
  }
}

const UNTOUCHED = 'Nothing was changed. Fix the file (or move it aside to start a new one) and run the command again.';

export interface LoadedConfig {
  path: string;
  format: FileFormat;
  exists: boolean;
  /** The bytes read, for the backup and to notice a concurrent writer. */
  bytes: Buffer | undefined;
  text: string;
  /** JSON and JSONC only; undefined for a missing or blank file. */
  root: JsonNode | undefined;
  /** Empty for a missing or blank file. */
  blank: boolean;
  value: { [k: string]: JsonValue };
}

function readError(file: string, err: unknown): ConfigFileError {
  if (err instanceof NotRegularFile) return notRegular(file, err.type);
  return new ConfigFileError(file, `Cannot read ${file} (${errnoCode(err) ?? 'error'}).`, UNTOUCHED, undefined, { cause: err });
}

function notRegular(file: string, type: EntryType): ConfigFileError {
  const what = type === 'fifo' ? 'a FIFO (named pipe)' : type === 'directory' ? 'a directory' : 'not a regular file';
  return new ConfigFileError(file, `${file} is ${what}; refusing to read or write it.`, 'Something may have planted it there: check what it is, and move it aside to let a new config file be written.');
}

/**
 * The file a write goes to. A symlink is refused unless the person asked to follow it (a planted
 * project-level .mcp.json linking elsewhere would make a migration edit another file); the message
 * names the real target. Anything but a regular file (FIFO, directory, device) is refused.
 */
async function writeTarget(fs: ClientFs, file: string, followSymlinks: boolean): Promise<string> {
  const type = await fs.entryType(file);
  if (type === 'missing' || type === 'file') return file;
  if (type !== 'symlink') throw notRegular(file, type);
  const real = await fs.realpath(file).catch(() => undefined);
  if (!followSymlinks) {
    throw new ConfigFileError(
      file,
      `${file} is a symbolic link${real ? ` to ${real}` : ' whose target does not exist'}; refusing to write through it.`,
      real ? 'Nothing was changed. If that file is the one to change, write it with `mcp-tokens config … --write --follow-symlinks` (or `mcp-tokens migrate --write --follow-symlinks`).' : UNTOUCHED,
    );
  }
  if (!real) throw new ConfigFileError(file, `${file} is a symbolic link whose target does not exist.`, UNTOUCHED);
  const realType = await fs.entryType(real);
  if (realType !== 'file') throw notRegular(real, realType);
  return real;
}

const FORMAT_WORDS: Record<FileFormat, string> = { json: 'valid JSON', jsonc: 'valid JSON with comments (JSONC)', toml: 'valid TOML', yaml: 'valid YAML' };

/** The parsed top-level object of `text`, or a ConfigFileError saying where it is broken. */
export function parseConfigText(file: string, text: string, format: FileFormat): { root: JsonNode | undefined; value: { [k: string]: JsonValue } } {
  const broken = (reason: string, line: number, column: number, cause: unknown) =>
    new ConfigFileError(file, `${file} is not ${FORMAT_WORDS[format]}: ${reason} at line ${line}, column ${column}.`, UNTOUCHED, { line, column }, { cause });
  let value: JsonValue;
  let root: JsonNode | undefined;
  if (format === 'toml') {
    try {
      value = parseToml(text);
    } catch (err) {
      if (!(err instanceof TomlSyntaxError)) throw err;
      throw broken(err.reason, err.line, err.column, err);
    }
  } else if (format === 'yaml') {
    try {
      value = parseYaml(text).value;
    } catch (err) {
      if (!(err instanceof YamlSyntaxError)) throw err;
      throw broken(err.reason, err.line, err.column, err);
    }
  } else {
    try {
      root = parseTree(text, format).root;
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      throw broken(err.reason, err.line, err.column, err);
    }
    value = toValue(root);
  }
  if (value === null && format === 'yaml') value = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigFileError(file, `${file} does not hold ${format === 'yaml' ? 'a mapping' : format === 'toml' ? 'a table' : 'a JSON object'} at the top level.`, UNTOUCHED);
  }
  return { root, value };
}

/** Reads and parses a config file; a missing or blank file is an empty object. */
export async function loadConfig(fs: ClientFs, file: string, format: FileFormat): Promise<LoadedConfig> {
  let bytes: Buffer | undefined;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw readError(file, err);
  }
  const text = bytes === undefined ? '' : bytes.toString('utf8');
  const blank = text.replace(/^\uFEFF/, '').trim() === '';
  if (blank) return { path: file, format, exists: bytes !== undefined, bytes, text, root: undefined, blank, value: {} };
  const { root, value } = parseConfigText(file, text, format);
  return { path: file, format, exists: true, bytes, text, root, blank, value };
}

/** The entries object at `container`, or {} when absent; an error when something else is there. */
export function entriesAt(cfg: LoadedConfig, container: readonly string[]): { [k: string]: JsonValue } {
  let v: JsonValue | undefined = cfg.value;
  for (const k of container) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) break;
    v = Object.hasOwn(v, k) ? v[k] : undefined;
  }
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ConfigFileError(cfg.path, `In ${cfg.path}, "${container.join('.')}" is not an object.`, UNTOUCHED);
  }
  return v;
}

export interface SetOp {
  path: string[];
  value: JsonValue;
}

/**
 * The new text: each set applied as a minimal text edit, then re-parsed and compared with the
 * intended value. Comments, order and spacing outside the changed values stay byte for byte.
 */
export function editText(cfg: LoadedConfig, syntax: Syntax, sets: readonly SetOp[]): string {
  let text = cfg.blank ? `${cfg.text.startsWith('\uFEFF') ? '\uFEFF' : ''}{}\n` : cfg.text;
  let expected: JsonValue = cfg.value;
  for (const s of sets) {
    const { root } = parseTree(text, syntax);
    let edits;
    try {
      edits = setEdits(text, root, s.path, s.value);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      // Only a duplicated key on the path gets here: the parse itself succeeded in loadConfig.
      throw new ConfigFileError(cfg.path, `${cfg.path} cannot be changed safely: ${err.reason}.`, 'Nothing was changed. Keep only one of them (clients differ on which one counts) and run the command again.', err);
    }
    text = applyEdits(text, edits);
    expected = withValue(expected, s.path, s.value);
  }
  const check = toValue(parseTree(text, syntax).root);
  if (!jsonEqual(check, expected)) throw new Error(`Internal error: the edit of ${cfg.path} did not produce the intended content; nothing was written.`);
  return text;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYYMMDD-HHMMSS` in local time: people read these names. */
export function backupStamp(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

export interface WriteOptions {
  fs?: ClientFs;
  now?: () => Date;
  /** Write to the file a symlink points to (`--follow-symlinks`); default: refuse symlinks. */
  followSymlinks?: boolean;
}

export interface WriteOutcome {
  /** The file written (with followSymlinks, symlinks resolved: the link stays, its target changes). */
  path: string;
  created: boolean;
  backup?: string;
}

/**
 * Backs up the old bytes, then writes `text` atomically. Throws, writing nothing, when the file
 * changed since `cfg` was read (the client saved it meanwhile): the caller reloads and retries.
 */
export async function writeConfig(cfg: LoadedConfig, text: string, opts: WriteOptions = {}): Promise<WriteOutcome> {
  const fs = opts.fs ?? nodeClientFs;
  const now = opts.now ?? (() => new Date());
  let current: Buffer | undefined;
  try {
    current = await fs.readFile(cfg.path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw readError(cfg.path, err);
  }
  const same = current === undefined ? cfg.bytes === undefined : cfg.bytes !== undefined && current.equals(cfg.bytes);
  if (!same) throw new ConcurrentChange(cfg.path);

  // With --follow-symlinks, write through a symlink (dotfile managers link these files) instead of replacing it.
  const target = await writeTarget(fs, cfg.path, opts.followSymlinks === true);
  let backup: string | undefined;
  if (cfg.bytes !== undefined) {
    const base = `${target}.bak-${backupStamp(now())}`;
    backup = base;
    for (let i = 1; (await fs.mode(backup)) !== undefined; i++) backup = `${base}-${i}`;
    // 0600: env blocks in these files often carry API keys.
    await fs.writeFileAtomic(backup, cfg.bytes, 0o600);
  } else {
    await fs.mkdir(path.dirname(target));
  }
  const mode = (await fs.mode(target)) ?? 0o600;
  await fs.writeFileAtomic(target, text, mode);
  return { path: target, created: cfg.bytes === undefined, ...(backup !== undefined ? { backup } : {}) };
}

export class ConcurrentChange extends Error {
  constructor(file: string) {
    super(`${file} changed while it was being edited`);
    this.name = 'ConcurrentChange';
  }
}

/** Runs load → change → write, again from the start if the file changed underneath (a few times). */
export async function withFreshConfig<T>(file: string, format: FileFormat, fs: ClientFs, attempt: (cfg: LoadedConfig) => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const cfg = await loadConfig(fs, file, format);
    try {
      return await attempt(cfg);
    } catch (err) {
      if (!(err instanceof ConcurrentChange) || i >= 2) {
        if (err instanceof ConcurrentChange) {
          throw new ConfigFileError(file, `${file} keeps changing while mcp-tokens edits it.`, 'Quit the client that owns it and run the command again; nothing was changed.');
        }
        throw err;
      }
    }
  }
}

/** URLs compare as the vault stores them (parsed, no fragment); anything else as written. */
export function sameUrlKey(s: string): string {
  try {
    const u = new URL(s);
    u.hash = '';
    return u.href;
  } catch {
    return s;
  }
}
