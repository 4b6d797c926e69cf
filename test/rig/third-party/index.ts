// Third-party MCP servers nobody here wrote, started by the tests on 127.0.0.1 like the rest of
// the rig: FastMCP (PyPI) with its in-memory OAuth provider on Streamable HTTP and on SSE; a
// server and AS built from the MCP Python SDK's auth components (simple-auth style); and the
// TypeScript SDK's own example server with its demo OAuth provider. The Python packages go into
// test/.venv, which the first test to need them creates (once; later runs reuse it).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '../../..');
export const VENV = join(ROOT, 'test/.venv');
const REQUIREMENTS = join(HERE, 'requirements.txt');
const LOCK = join(ROOT, 'test/.venv.lock');
/** A local mirror of PyPI, where there is one (pip otherwise spends minutes retrying pypi.org offline). */
const LOCAL_INDEX = '/opt/pypi/simple';
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

const require = createRequire(import.meta.url);
const SDK_EXAMPLE = join(dirname(require.resolve('@modelcontextprotocol/sdk/server/mcp.js')), '../examples/server/simpleStreamableHttp.js');

/** The versions under test, for the test names and the README. */
export const VERSIONS = {
  fastmcp: '4.0.10',
  mcp: '2.3.0',
  tsSdk: (JSON.parse(await readFile(join(dirname(SDK_EXAMPLE), '../../../../package.json'), 'utf8')) as { version: string }).version,
};

function venvPython(): string {
  return process.platform === 'win32' ? join(VENV, 'Scripts', 'python.exe') : join(VENV, 'bin', 'python');
}

/** Runs a command to completion within `timeoutMs`; rejects with the tail of its output. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err as Error);
      return;
    }
    let out = '';
    const keep = (c: Buffer) => (out = (out + c.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out}`));
    });
  });
}

/** One process at a time creates the venv; a lock older than the install timeout is stale. */
async function withLock(fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + INSTALL_TIMEOUT_MS + 60_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > INSTALL_TIMEOUT_MS) await rm(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`, { cause: err });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    await fn();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

/**
 * Creates test/.venv with the pinned packages unless it already has exactly them; returns its
 * python. Needs Python 3 with venv (Debian: python3-venv).
 */
export async function ensureVenv(): Promise<string> {
  const want = await readFile(REQUIREMENTS, 'utf8');
  const marker = join(VENV, '.rig-requirements');
  const ready = async () => existsSync(venvPython()) && (await readFile(marker, 'utf8').catch(() => '')) === want;
  if (await ready()) return venvPython();
  await withLock(async () => {
    if (await ready()) return;
    const python = process.env.RIG_PYTHON ?? (process.platform === 'win32' ? 'python' : 'python3');
    if (!existsSync(venvPython())) {
      await run(python, ['-m', 'venv', VENV], process.env, 120_000).catch((err: Error) => {
        throw new Error(`Could not create ${VENV} with ${python} (the third-party servers need Python 3 with venv; on Debian: apt-get install python3-venv).\n${err.message}`);
      });
    }
    const env: NodeJS.ProcessEnv = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' };
    if (!env.PIP_INDEX_URL && existsSync(LOCAL_INDEX)) env.PIP_INDEX_URL = `file://${LOCAL_INDEX}`;
    await run(venvPython(), ['-m', 'pip', 'install', '--retries', '0', '-r', REQUIREMENTS], env, INSTALL_TIMEOUT_MS).catch((err: Error) => {
      throw new Error(`Could not install ${REQUIREMENTS} into ${VENV} (delete that folder to start afresh).\n${err.message}`);
    });
    await writeFile(marker, want);
  });
  return venvPython();
}

export interface ThirdPartyServer {
  /** The MCP endpoint to link. */
  url: string;
  /** What the server wrote to stderr so far (for failure messages). */
  log(): string;
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts a server and resolves once `ready` finds its URL in what it printed. */
function spawnServer(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: (output: string) => string | undefined): Promise<ThirdPartyServer> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    let errText = '';
    let settled = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const close = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(t);
      }
      running.delete(child);
    };
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void close();
      reject(new Error(`${args.join(' ')}: ${why}\n${(output + errText).slice(-3000)}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const check = () => {
      const url = ready(output);
      if (url === undefined || settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise({ url, log: () => errText, close });
    };
    child.stdout!.on('data', (c: Buffer) => {
      output = (output + c.toString()).slice(-20_000);
      check();
    });
    child.stderr!.on('data', (c: Buffer) => (errText = (errText + c.toString()).slice(-20_000)));
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? code}) before it was ready`));
  });
}

function firstJsonLine(output: string): string | undefined {
  const nl = output.indexOf('\n');
  if (nl < 0) return undefined;
  return (JSON.parse(output.slice(0, nl)) as { url: string }).url;
}

export interface PythonServerOptions {
  /** Access token lifetime in seconds. */
  accessTtl?: number;
}

function pythonEnv(o: PythonServerOptions): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONUNBUFFERED: '1', ...(o.accessTtl !== undefined ? { RIG_ACCESS_TTL: String(o.accessTtl) } : {}) };
}

/** FastMCP with its in-memory OAuth provider (its own AS; DCR, refresh-token rotation, revocation). */
export async function startFastMcp(transport: 'http' | 'sse', o: PythonServerOptions = {}): Promise<ThirdPartyServer> {
  return spawnServer(await ensureVenv(), [join(HERE, 'fastmcp_server.py'), transport], pythonEnv(o), firstJsonLine);
}

/** The MCP Python SDK's auth components: a resource server and a separate AS with a login form. */
export async function startPythonSdk(o: PythonServerOptions = {}): Promise<ThirdPartyServer> {
  return spawnServer(await ensureVenv(), [join(HERE, 'python_sdk_server.py')], pythonEnv(o), firstJsonLine);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// The example listens on every interface; the rig keeps everything on loopback.
const LOOPBACK_ONLY = `data:text/javascript,${encodeURIComponent(
  "import net from 'node:net'; const listen = net.Server.prototype.listen; net.Server.prototype.listen = function (...a) { if (typeof a[0] === 'number' && (a.length === 1 || typeof a[1] === 'function')) a.splice(1, 0, '127.0.0.1'); return listen.apply(this, a); };",
)}`;

/**
 * The TypeScript SDK's example server (`simpleStreamableHttp --oauth --oauth-strict`): a separate
 * demo AS with DCR and no login page, tokens checked by introspection. The example takes fixed
 * ports from the environment, so free ones are picked, and picked again if taken meanwhile.
 */
export async function startTsSdkExample(): Promise<ThirdPartyServer> {
  for (let attempt = 1; ; attempt++) {
    const mcpPort = await freePort();
    const authPort = await freePort();
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, MCP_PORT: String(mcpPort), MCP_AUTH_PORT: String(authPort) };
    try {
      return await spawnServer(process.execPath, ['--import', LOOPBACK_ONLY, SDK_EXAMPLE, '--oauth', '--oauth-strict'], env, (out) =>
        out.includes(`listening on port ${mcpPort}`) && out.includes(`listening on port ${authPort}`) ? `http://localhost:${mcpPort}/mcp` : undefined,
      );
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}
