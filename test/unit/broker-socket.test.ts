// The broker's socket: private, validated line by line, single instance, idle exit.
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src-main/core/broker/broker.js';
import { BrokerClient } from '../../src-main/core/broker/client.js';
import { brokerAddress, LineSplitter, parseRequest } from '../../src-main/core/broker/protocol.js';
import { MAX_SOCKET_PATH } from '../../src-main/core/broker/address.js';
import { BrokerAlreadyRunning, type BrokerServer, serveBroker } from '../../src-main/core/broker/server.js';
import { keyCipher } from '../../src-main/core/vault/cipher.js';
import { nodeFileSystem } from '../../src-main/core/vault/fs.js';
import { Manager } from '../../src-main/core/manager/manager.js';
import { systemClock } from '../../src-main/core/platform/services.js';
import { Vault } from '../../src-main/core/vault/vault.js';

const logger = { log: () => {} };
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBroker(opts: { idleExitMs?: number; onIdle?: () => void; home?: string } = {}): Promise<{ home: string; server: BrokerServer }> {
  const home = opts.home ?? (await mkdtemp(join(tmpdir(), 'broker-test-')));
  cleanups.push(() => rm(home, { recursive: true, force: true }));
  const cipher = keyCipher(Buffer.alloc(32, 7), 'test', 'test key', false);
  const vault = await Vault.open({ home, fs: nodeFileSystem, cipher, clock: systemClock });
  const manager = new Manager({ vault, cipher, clock: systemClock, opener: { open: async () => {} }, logger });
  const broker = new Broker({ manager, clock: systemClock, logger, vaultStamp: () => vault.stamp() });
  const { home: _h, ...rest } = opts;
  const server = await serveBroker(broker, { address: brokerAddress(home), home, logger, version: 'test', ...rest });
  cleanups.push(() => server.close());
  return { home, server };
}

function rawExchange(address: string, payload: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(address);
    let buf = '';
    s.on('data', (c) => {
      buf += c.toString();
      const got = buf.split('\n').filter(Boolean);
      if (got.length >= lines) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(payload);
    setTimeout(() => reject(new Error(`timeout; got ${buf}`)), 5000).unref();
  });
}

describe('broker address', () => {
  it('lives in the per-user runtime dir, named by a hash of the data dir, and always fits', () => {
    const a = brokerAddress('/home/u/data', 'linux', { XDG_RUNTIME_DIR: '/run/user/1000' }, '1000');
    expect(a).toMatch(/^\/run\/user\/1000\/mcp-tokens\/broker-[0-9a-f]{16}\.sock$/);
    expect(brokerAddress('/home/u/data', 'linux', {}, '1000')).toMatch(/^\/tmp\/mcp-tokens-1000\/broker-[0-9a-f]{16}\.sock$/);
    expect(brokerAddress('/home/u/data', 'darwin', { TMPDIR: '/var/folders/zz/abcdefghijklmnopqrstuvwxyz012/T/' }, '501')).toMatch(/^\/var\/folders\/zz\/abcdefghijklmnopqrstuvwxyz012\/T\/mcp-tokens-501\/broker-/);
    // Two data dirs never share a broker; a long data dir or TMPDIR still fits.
    expect(brokerAddress('/a', 'linux', {}, '1')).not.toBe(brokerAddress('/b', 'linux', {}, '1'));
    expect(Buffer.byteLength(brokerAddress(`/${'x'.repeat(300)}`, 'linux', {}, '1000'))).toBeLessThanOrEqual(MAX_SOCKET_PATH);
    expect(brokerAddress('/h', 'linux', { TMPDIR: `/${'t'.repeat(120)}` }, '1000')).toMatch(/^\/tmp\/mcp-tokens-1000\//);
    expect(brokerAddress('C:\\Users\\U\\AppData', 'win32', {}, 'u')).toMatch(/^\\\\\.\\pipe\\mcp-tokens-[0-9a-f]{16}$/);
  });
});

describe('broker protocol', () => {
  it('validates requests', () => {
    expect(parseRequest('{"id":1,"method":"getToken","params":{"server":"a"}}')).toEqual({ id: 1, method: 'getToken', params: { server: 'a', minValiditySeconds: 60 } });
    expect(() => parseRequest('nope')).toThrow(/not JSON/);
    expect(() => parseRequest('{"id":"x","method":"status"}')).toThrow(/id/);
    expect(() => parseRequest('{"id":1,"method":"exec"}')).toThrow(/unknown method/);
    expect(() => parseRequest('{"id":1,"method":"getToken","params":{"server":""}}')).toThrow(/server/);
    expect(() => parseRequest('{"id":1,"method":"getToken","params":{"server":"a","minValiditySeconds":-5}}')).toThrow(/minValiditySeconds/);
    expect(() => parseRequest('{"id":1,"method":"stepUp","params":{"server":"a","scopes":["a b"]}}')).toThrow(/scopes/);
  });

  it('splits lines across chunks and refuses long ones', () => {
    const lines: string[] = [];
    let over = 0;
    const sp = new LineSplitter(10, (l) => lines.push(l), () => over++);
    sp.push(Buffer.from('ab'));
    sp.push(Buffer.from('c\nde'));
    sp.push(Buffer.from('f\n0123456789abc\nok\n'));
    expect(lines).toEqual(['abc', 'def', 'ok']);
    expect(over).toBe(1);
  });
});

describe('broker socket', () => {
  it('is private: 0700 runtime dir and 0600 socket, at a path that fits', async () => {
    const { server } = await startBroker();
    expect((await stat(dirname(server.address))).mode & 0o777).toBe(0o700);
    expect((await stat(server.address)).mode & 0o777).toBe(0o600);
    expect(Buffer.byteLength(server.address)).toBeLessThanOrEqual(MAX_SOCKET_PATH);
  });

  it('serves a data dir of 200 characters', async () => {
    const base = await mkdtemp(join(tmpdir(), 'broker-long-'));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    const home = join(base, 'd'.repeat(200 - base.length - 1));
    expect(home.length).toBe(200);
    const { server } = await startBroker({ home });
    const c = new BrokerClient({ address: brokerAddress(home), home });
    cleanups.push(async () => c.close());
    expect((await c.request('hello', { client: 't' })).pid).toBe(process.pid);
    expect(Buffer.byteLength(server.address)).toBeLessThanOrEqual(MAX_SOCKET_PATH);
  });

  it('refuses a socket directory that is not private to this user', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'broker-open-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await chmod(dir, 0o777);
    const c = new BrokerClient({ address: join(dir, 'broker.sock') });
    await expect(c.request('hello', {})).rejects.toThrow(/not a private directory/);
  });

  it('answers bad lines with errors and stays up', async () => {
    const { server } = await startBroker();
    const got = await rawExchange(server.address, 'garbage\n{"id":2,"method":"launch"}\n{"id":3,"method":"hello","params":{}}\n', 3);
    const msgs = got.map((l) => JSON.parse(l) as { id: number; error?: { code: string; message: string }; result?: { protocol: number } });
    expect(msgs[0]).toMatchObject({ id: -1, error: { code: 'bad-request' } });
    expect(msgs[1]).toMatchObject({ id: 2, error: { code: 'bad-request', message: expect.stringMatching(/unknown method/) } });
    expect(msgs[2]).toMatchObject({ id: 3, result: { protocol: 1 } });
  });

  it('reports unknown servers clearly', async () => {
    const { server } = await startBroker();
    const c = new BrokerClient({ address: server.address });
    cleanups.push(async () => c.close());
    expect(await c.request('resolve', { server: 'nope' })).toEqual({ server: null });
    await expect(c.request('getToken', { server: 'nope' })).rejects.toThrow(/No linked server "nope"/);
    expect(await c.request('status', {})).toEqual({ servers: [] });
  });

  it('refuses a second broker on the same data dir, and replaces a stale socket', async () => {
    const { home, server } = await startBroker();
    const logger2 = { log: () => {} };
    const cipher = keyCipher(Buffer.alloc(32, 7), 'test', 'test key', false);
    const vault = await Vault.open({ home, fs: nodeFileSystem, cipher, clock: systemClock });
    const manager = new Manager({ vault, cipher, clock: systemClock, opener: { open: async () => {} }, logger: logger2 });
    const b2 = new Broker({ manager, clock: systemClock, logger: logger2, vaultStamp: () => vault.stamp() });
    await expect(serveBroker(b2, { address: server.address, home, logger: logger2, version: 't' })).rejects.toBeInstanceOf(BrokerAlreadyRunning);
    // The socket is untouched by the loser: the first broker still answers.
    const c1 = new BrokerClient({ address: server.address });
    expect((await c1.request('hello', { client: 't' })).protocol).toBe(1);
    c1.close();
    await server.close();
    await writeFile(server.address, ''); // a stale file where the socket was
    const s2 = await serveBroker(b2, { address: server.address, home, logger: logger2, version: 't' });
    cleanups.push(() => s2.close());
    const c = new BrokerClient({ address: server.address });
    cleanups.push(async () => c.close());
    expect((await c.request('hello', { client: 't' })).protocol).toBe(1);
  });

  it('exits when idle after the last client leaves', async () => {
    let idle = 0;
    const { server } = await startBroker({ idleExitMs: 100, onIdle: () => idle++ });
    const c = new BrokerClient({ address: server.address });
    await c.request('hello', { client: 't' });
    // On a loaded machine the timer armed at start may fire before the connection is accepted;
    // what must hold is that it never fires while a client is connected, and once after it leaves.
    const atConnect = idle;
    await new Promise((r) => setTimeout(r, 400));
    expect(idle).toBe(atConnect);
    c.close();
    for (let i = 0; i < 200 && idle === atConnect; i++) await new Promise((r) => setTimeout(r, 50));
    expect(idle).toBe(atConnect + 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(idle).toBe(atConnect + 1);
  });
});
