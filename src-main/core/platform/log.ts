// The Logger: one line per entry, `ISO-time level message key=value…`, to stderr (when
// asked) and to home/logs/mcp-tokens.log. Every line goes through the redactor last, so
// nothing written anywhere carries a token, whatever the caller passed in.
import fs from 'node:fs';
import path from 'node:path';
import { logDir } from '../vault/paths.js';
import type { Clock, Logger, LogLevel } from './services.js';
import { systemClock } from './services.js';
import { defaultRedactor, REDACTED, type Redactor } from './redact.js';

export interface LoggerOptions {
  /** Data dir; when given, entries are appended to home/logs/mcp-tokens.log. */
  home?: string;
  /** Also write to stderr. */
  stderr: boolean;
  /** Entries below this level are dropped. */
  level: LogLevel;
  redactor?: Redactor;
  clock?: Clock;
  /** Rotate when the file would grow past this. Default ~1 MB. */
  maxBytes?: number;
  /** Where stderr lines go; tests capture them. */
  writeStderr?: (line: string) => void;
}

export const LOG_FILE_NAME = 'mcp-tokens.log';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
// Field names whose values are secret whatever they look like.
const SECRET_FIELD = /^(access_?token|refresh_?token|id_?token|token|client_?secret|secret|password|code_?verifier|device_?code|registration_?access_?token|authorization|cookie|api_?key)$/i;

export function logFilePath(home: string): string {
  return path.join(logDir(home), LOG_FILE_NAME);
}

export function createLogger(options: LoggerOptions): Logger {
  const redactor = options.redactor ?? defaultRedactor;
  const clock = options.clock ?? systemClock;
  const min = RANK[options.level];
  const writeStderr = options.writeStderr ?? ((line: string) => process.stderr.write(line));
  const file = options.home !== undefined ? new RotatingFile(logFilePath(options.home), options.maxBytes ?? 1_000_000) : undefined;

  return {
    log(level, message, fields) {
      if (RANK[level] < min) return;
      const line = `${redactor.redact(formatEntry(clock.now(), level, message, fields))}\n`;
      if (options.stderr) {
        try {
          writeStderr(line);
        } catch {
          // A closed stderr must not take the process down.
        }
      }
      file?.append(line);
    },
  };
}

/** One line: newlines escaped, fields as key=value with quoting where needed. */
export function formatEntry(at: number, level: LogLevel, message: string, fields?: Record<string, unknown>): string {
  let line = `${new Date(at).toISOString()} ${level} ${oneLine(message)}`;
  if (fields !== undefined) {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const text = SECRET_FIELD.test(key) ? REDACTED : valueText(value);
      line += ` ${key}=${quoteIfNeeded(text)}`;
    }
  }
  return line;
}

function valueText(v: unknown): string {
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return `${v.name}: ${v.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function oneLine(s: string): string {
  return s.replace(/\r?\n/g, '\\n');
}

function quoteIfNeeded(s: string): string {
  const t = oneLine(s);
  return t === '' || /[\s"=]/.test(t) ? JSON.stringify(t) : t;
}

/** Append-only file, mode 0600, rotated to `<name>.1` (one old file kept). Never throws. */
class RotatingFile {
  private size: number | undefined;
  private broken = false;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
  ) {}

  append(line: string): void {
    if (this.broken) return;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.size === undefined) {
        fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
        this.size = fileSize(this.file);
      }
      if (this.size + bytes > this.maxBytes) {
        // Other processes append to the same file; look at its real size before rotating.
        this.size = fileSize(this.file);
        if (this.size + bytes > this.maxBytes && this.size > 0) {
          fs.renameSync(this.file, `${this.file}.1`);
          this.size = 0;
        }
      }
      // Synchronous so lines are in order and survive a crash right after.
      fs.appendFileSync(this.file, line, { mode: 0o600 });
      this.size += bytes;
    } catch {
      // Logging must never break the program; stop trying after the first failure.
      this.broken = true;
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
