// The keyring adapter against a real OS store. On Linux the test starts its own Secret Service:
// a private D-Bus session and GNOME Keyring unlocked with a throwaway password, in a temp HOME.
// Missing tools fail the test with what to install: it never skips.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFilePath } from '../../src-main/core/vault/paths.js';
import { allFiles, ROOT, runCli } from './cli-helpers.js';

const linux = process.platform === 'linux';
const STORE = { linux: 'Secret Service', darwin: 'macOS Keychain', win32: 'Windows Credential Manager' }[process.platform as string];
const CHILD = join(ROOT, 'test/integration/fixtures/keyring-child.ts');
const TOOLS = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon'];

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs a command to the end, bounded in time; resolves with its stdout. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The fixture in its own process: one JSON line out. */
async function child<T>(env: NodeJS.ProcessEnv, ...args: string[]): Promise<T> {
  const out = await run(process.execPath, ['--import', 'tsx', CHILD, ...args], env, 30_000);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

function firstLine(p: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what} printed nothing in 15 s`)), 15_000);
    p.stdout!.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      if (buf.includes('\n')) {
        clearTimeout(timer);
        resolve(buf.split('\n')[0]!.trim());
      }
    });
    p.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

let root: string;
let env: NodeJS.ProcessEnv;
const daemons: ChildProcess[] = [];

/** A private session bus (no service activation, so nothing else answers) and GNOME Keyring on it. */
async function startSecretService(): Promise<void> {
  const missing = TOOLS.filter((t) => !onPath(t));
  if (missing.length > 0) {
    throw new Error(
      `The keyring test needs a real Secret Service, and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed. ` +
        'Install them (Debian/Ubuntu: sudo apt-get install gnome-keyring dbus); this test never skips.',
    );
  }
  const conf = join(root, 'session.conf');
  await writeFile(
    conf,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${join(root, 'bus')}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>\n`,
  );
  // stderr ignored: in a sandbox it warns on every start that it cannot raise its fd limit.
  const bus = spawn('dbus-daemon', ['--config-file', conf, '--nofork', '--nopidfile', '--print-address=1'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  daemons.push(bus);
  env.DBUS_SESSION_BUS_ADDRESS = await firstLine(bus, 'dbus-daemon');
  const keyring = spawn('gnome-keyring-daemon', ['--unlock', '--components=secrets', '--foreground'], { env, stdio: ['pipe', 'ignore', 'inherit'] });
  daemons.push(keyring);
  keyring.stdin!.end(randomBytes(12).toString('hex')); // the throwaway login password, on stdin
  for (let i = 0; ; i++) {
    const owned = await run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], env);
    if (owned.includes('boolean true')) return;
    if (i >= 100) throw new Error('GNOME Keyring did not take the Secret Service name on the test bus in 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mcpt-keyring-'));
  const home = join(root, 'home');
  await mkdir(join(root, 'run'), { recursive: true, mode: 0o700 });
  await mkdir(home, { recursive: true });
  env = { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: join(root, 'run'), XDG_DATA_HOME: join(home, '.local/share') };
  if (!linux) env = { ...process.env, ...env, HOME: process.env.HOME, XDG_DATA_HOME: undefined };
  if (linux) await startSecretService();
});

afterAll(async () => {
  for (const d of daemons.reverse()) {
    if (d.exitCode === null) {
      const gone = new Promise((r) => d.once('exit', r));
      d.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
    }
  }
  if (root) await rm(root, { recursive: true, force: true });
});

describe(`keyring adapter (${STORE ?? process.platform})`, () => {
  it('stores the vault key in the OS store, a second process reads it back, and no file on disk holds it', async () => {
    const data = join(root, 'data');
    const stored = await child<{ kind: string; description: string; sealed: string }>(env, 'store', data, 'canary-plaintext');
    expect(stored.kind).toBe('keyring');
    expect(stored.description).toBe(`OS keyring (${STORE})`);

    try {
      const back = await child<{ kind: string; plain: string; key: string }>(env, 'read', data, stored.sealed);
      expect(back.kind).toBe('keyring');
      expect(back.plain).toBe('canary-plaintext');
      const key = Buffer.from(back.key, 'base64');
      expect(key.length).toBe(32);

      // Not beside the vault, and in no form in any file the test's HOME holds (on Linux, the
      // keyring's own file, encrypted with the login password, is there and must not show it).
      expect(await stat(keyFilePath(data)).catch(() => null)).toBeNull();
      const files = await allFiles(root);
      if (linux) expect(files.some((f) => f.path.endsWith('.keyring') && f.data.length > 0)).toBe(true);
      const forms = [key, Buffer.from(back.key), Buffer.from(key.toString('hex')), Buffer.from(key.toString('base64url'))];
      const holding = files.filter((f) => forms.some((form) => f.data.includes(form))).map((f) => f.path);
      expect(holding).toEqual([]);

      // The built CLI loads the binding lazily too, and `status` names the store.
      const status = await runCli(['status'], { ...env, MCP_TOKENS_HOME: data });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`Secrets are kept in: OS keyring (${STORE})`);
    } finally {
      if (!linux) await child(env, 'forget', data);
    }
  });

  if (linux) {
    it('falls back to the key file when no Secret Service answers, and status says so', async () => {
      const data = join(root, 'data-nobus');
      const noBus = { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(root, 'no-such-bus')}` };
      const stored = await child<{ kind: string; description: string }>(noBus, 'store', data, 'x');
      expect(stored.kind).toBe('key-file');
      expect(await stat(keyFilePath(data))).toBeTruthy();
      const status = await runCli(['status'], { ...noBus, MCP_TOKENS_HOME: data });
      expect(status.stdout).toContain(`Secrets are kept in: key file ${keyFilePath(data)}`);
    });
  }
});
