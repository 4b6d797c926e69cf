// Starting a config entry the way an MCP client does: command, args and env from the file, no
// shell, cwd /, a PATH without the project's node_modules/.bin, nothing else of the test's env.
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BrokerClient } from '../../src-main/core/broker/client.js';
import { brokerAddress } from '../../src-main/core/broker/protocol.js';
import { commandLineOf, defaultConfigPath, descriptor, entriesIn, loadConfig, nodeClientFs, type ClientKind } from '../../src-main/core/clients/index.js';
import { BIN } from './cli-helpers.js';

export interface Entry {
  command: string;
  args: string[];
  env?: Record<string, string>;
  type?: string;
}

/** PATH as a GUI app has it: no node_modules/.bin of this project. */
export function clientPath(): string {
  return (process.env.PATH ?? '')
    .split(':')
    .filter((p) => p && !p.includes('node_modules'))
    .join(':');
}

/** The entry's command line, read from the client's file in its own format and shape. */
export async function entryIn(kind: ClientKind, home: string, name: string, file = defaultConfigPath(kind, { HOME: home }, 'linux')): Promise<Entry> {
  const d = descriptor(kind);
  const cfg = await loadConfig(nodeClientFs, file, d.format);
  const raw = entriesIn(cfg, d)[name];
  const cmd = commandLineOf(raw);
  if (!cmd) throw new Error(`no entry "${name}" in ${file}: ${cfg.text}`);
  const type = raw !== null && typeof raw === 'object' && !Array.isArray(raw) && typeof raw.type === 'string' ? raw.type : undefined;
  return { command: cmd.command, args: cmd.args, ...(Object.keys(cmd.env).length ? { env: cmd.env } : {}), ...(type !== undefined ? { type } : {}) };
}

export interface ClientSession {
  client: Client;
  stderr(): string;
  close(): Promise<void>;
}

export async function launchEntry(entry: Entry, home: string, opts: { extraEnv?: Record<string, string>; name?: string } = {}): Promise<ClientSession> {
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    // The SDK adds HOME, PATH, USER… from this process; ours override them, as a client's do.
    env: { ...entry.env, ...opts.extraEnv, PATH: clientPath(), HOME: home },
    cwd: '/',
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const client = new Client({ name: opts.name ?? 'client-like', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`${String(e)}\nbridge stderr:\n${err}`, { cause: e });
  }
  return { client, stderr: () => err, close: () => client.close() };
}

/** A broker started ahead, with the test's env (its key file, no OS keyring). */
export async function startDaemon(env: NodeJS.ProcessEnv, home: string): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'daemon', '--idle-exit', '600'], { env, stdio: 'ignore', detached: true });
  child.unref();
  const c = new BrokerClient({ address: brokerAddress(home) });
  try {
    for (let i = 0; i < 200; i++) {
      try {
        await c.request('hello', {}, 1000);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('the daemon did not answer');
  } finally {
    c.close();
  }
}
