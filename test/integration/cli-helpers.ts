// Runs the built `mcp-tokens` exactly as a user would, in a throwaway data dir.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/mcp-tokens.js');
export const PERSON = join(ROOT, 'test/rig/person.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function tempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mcp-tokens-test-'));
}

export function cliEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    MCP_TOKENS_HOME: home,
    // Never touch a real OS keyring from tests.
    MCP_TOKENS_KEYRING: 'off',
    BROWSER: `"${process.execPath}" "${PERSON}"`,
    ...extra,
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { timeoutMs?: number; onStderr?: (chunk: string) => void } = {}): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      opts.onStderr?.(c);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mcp-tokens ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 45_000} ms\nstderr:\n${stderr}`));
    }, opts.timeoutMs ?? 45_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Every file below dir, with its bytes (for "no secret in clear" checks). */
export async function allFiles(dir: string): Promise<Array<{ path: string; data: Buffer }>> {
  const out: Array<{ path: string; data: Buffer }> = [];
  async function walk(d: string) {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ path: p, data: await readFile(p) });
    }
  }
  await walk(dir);
  return out;
}

/** Paths of files below dir containing any of the secrets (each ≥ 8 chars). */
export async function filesContaining(dir: string, secrets: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await allFiles(dir)) {
    const text = f.data.toString('latin1');
    if (secrets.some((s) => s.length >= 8 && text.includes(s))) hits.push(f.path);
  }
  return hits;
}

export async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}
