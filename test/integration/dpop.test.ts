// DPoP (RFC 9449) end to end: a DPoP-enforcing AS (oidc-provider) and an MCP server that checks
// every proof (test/rig/dpop.ts), the CLI linking, and real bridges started as an MCP client
// would. The key is made and kept by the broker; the bridge only ever sees proofs and tokens.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open as openFile, readFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { BrokerClient } from '../../src-main/core/broker/client.js';
import { brokerAddress } from '../../src-main/core/broker/protocol.js';
import type { Rig } from '../rig/index.js';
import { startModernRig } from '../rig/modern-server.js';
import { openBridge, textOf, waitFor } from './bridge-helpers.js';
import { BIN, cliEnv, filesContaining, runCli } from './cli-helpers.js';
import { readVault } from './grant-helpers.js';
import { rigFixture } from './rig-fixture.js';

const fx = rigFixture();

interface LinkJson {
  id: string;
  dpop?: { bound: boolean; thumbprint?: string; off?: true };
}

async function linkJson(url: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<LinkJson> {
  const r = await runCli(['link', url, '--json', ...extra], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as LinkJson;
}

async function dpopRig(profile: 'separate-as' | 'own-as' | 'legacy-sse' | 'device-only', dpop: { asNonce?: boolean; rsNonce?: boolean } = {}, opts: { accessTokenTtl?: number } = {}) {
  const rig = await fx.rig(profile, { dpop, ...opts });
  const home = await fx.home();
  const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
  return { rig, home, env };
}

const ath = (token: string) => createHash('sha256').update(token, 'ascii').digest('base64url');

/** What the MCP server saw with a token: every authorized request used the DPoP scheme. */
function expectAllDpop(rig: Rig) {
  const authorized = rig.mcp.requests.filter((r) => r.authorized);
  expect(authorized.length).toBeGreaterThan(0);
  expect(authorized.every((r) => r.scheme === 'dpop')).toBe(true);
  expect(rig.mcp.dpop!.stats.replays).toBe(0);
}

describe('DPoP-bound grants', () => {
  it.each(['separate-as', 'own-as', 'legacy-sse', 'device-only'] as const)('links DPoP-bound and bridges a whole session with a fresh proof per request (%s)', async (profile) => {
    const { rig, home, env } = await dpopRig(profile);
    const linked = await linkJson(rig.mcpUrl, env);
    expect(linked.dpop?.bound).toBe(true);
    const jkt = linked.dpop!.thumbprint!;
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The AS bound the token to that key (cnf.jkt), and says so in token_type.
    const grantType = profile === 'device-only' ? 'urn:ietf:params:oauth:grant-type:device_code' : 'authorization_code';
    expect(rig.as.tokenRequests.find((t) => t.grantType === grantType && t.status === 200)).toBeDefined();
    const vault = await readVault(home);
    const sec = vault.secrets.tokens[linked.id]!;
    expect(vault.servers[linked.id]!.grant!.tokenType).toBe('dpop');
    if (profile === 'separate-as') expect((decodeJwt(sec.accessToken).cnf as { jkt?: string }).jkt).toBe(jkt);

    // The private key is sealed: its `d` is in no file in clear.
    const d = vault.secrets.dpop![linked.id]!.privateJwk.d;
    expect(await filesContaining(home, [d, sec.accessToken])).toEqual([]);

    const status = JSON.parse((await runCli(['status', linked.id, '--json'], env)).stdout) as LinkJson;
    expect(status.dpop).toEqual({ bound: true, thumbprint: jkt });

    const b = await openBridge(env, linked.id);
    try {
      const who = JSON.parse(textOf(await b.client.callTool({ name: 'whoami', arguments: {} }))) as { sub: string };
      expect(who.sub).toBe('alice');
      for (let i = 0; i < 5; i++) expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: `n${i}` } }))).toBe(`n${i}`);
      const seen: number[] = [];
      expect(textOf(await b.client.callTool({ name: 'slow', arguments: { steps: 2, ms: 10 } }, undefined, { onprogress: (p) => seen.push(p.progress) }))).toBe('done after 2');
    } finally {
      await b.close();
    }
    expectAllDpop(rig);
    const authorized = rig.mcp.requests.filter((r) => r.authorized).length;
    // One accepted proof per authorized request: none reused, none refused.
    expect(rig.mcp.dpop!.stats.accepted).toBe(authorized);
    expect(rig.mcp.dpop!.stats.refusals).toEqual([]);
    if (profile === 'legacy-sse') expect(rig.mcp.requests.some((r) => r.method === 'GET' && r.authorized)).toBe(true);
  });
});

describe('DPoP on the modern path', () => {
  it('a 2026-07-28 server that takes only DPoP-bound tokens: every request of the session carries a fresh proof', async () => {
    const rig = await startModernRig({ dpop: true });
    try {
      const home = await fx.home();
      const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
      const linked = await linkJson(rig.url, env);
      expect(linked.dpop?.bound).toBe(true);
      const b = await openBridge(env, linked.id);
      try {
        for (let i = 0; i < 3; i++) expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: `m${i}` } }))).toBe(`m${i}`);
      } finally {
        await b.close();
      }
      const authorized = rig.mcp.requests.filter((r) => r.authorized).length;
      expect(authorized).toBeGreaterThan(3);
      expect(rig.dpop!.stats.accepted).toBe(authorized);
      expect(rig.dpop!.stats.refusals).toEqual([]);
    } finally {
      await rig.close();
    }
  });
});

describe('DPoP at the token endpoint', () => {
  it('refreshes with a proof of the same key, and the AS and MCP server nonces cost one retry each, never a loop', async () => {
    const { rig, env } = await dpopRig('separate-as', { asNonce: true, rsNonce: true }, { accessTokenTtl: 3600 });
    const linked = await linkJson(rig.mcpUrl, env);
    expect(linked.dpop?.bound).toBe(true);
    // The code exchange: one use_dpop_nonce answer, then the same request with the nonce.
    const codeReqs = rig.as.tokenRequests.filter((t) => t.grantType === 'authorization_code');
    expect(codeReqs.map((t) => t.error ?? t.status)).toEqual(['use_dpop_nonce', 200]);

    const b = await openBridge(env, linked.id);
    try {
      for (let i = 0; i < 4; i++) expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: `a${i}` } }))).toBe(`a${i}`);
      // The server's nonce was asked for once; the broker kept it for every request after.
      expect(rig.mcp.dpop!.stats.nonceChallenges).toBe(1);
      const before = rig.mcp.requests.length;
      // A new nonce at the server: one more challenge and one more request, no more.
      rig.mcp.dpop!.rotateNonce();
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'rotated' } }))).toBe('rotated');
      expect(rig.mcp.dpop!.stats.nonceChallenges).toBe(2);
      expect(rig.mcp.requests.length - before).toBe(2);

      // Refresh through the broker, twice: its first token request learns the AS's nonce (the
      // link ran in another process), the second uses the nonce it kept.
      for (let i = 0; i < 2; i++) {
        const r = await runCli(['refresh', linked.id, '--json'], env);
        expect(r.code, r.stderr).toBe(0);
      }
      const refreshes = rig.as.tokenRequests.filter((t) => t.grantType === 'refresh_token');
      expect(refreshes.map((t) => t.error ?? t.status)).toEqual(['use_dpop_nonce', 200, 200]);
      const fresh = rig.as.issuedAccessTokens.at(-1)!;
      expect((decodeJwt(fresh).cnf as { jkt?: string }).jkt).toBe(linked.dpop!.thumbprint);
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'after refresh' } }))).toBe('after refresh');
    } finally {
      await b.close();
    }
    expectAllDpop(rig);
  });

  it('a server that asks for a new nonce every time gets one retry per request, then a clear error', async () => {
    const { rig, env } = await dpopRig('separate-as', { rsNonce: true });
    const linked = await linkJson(rig.mcpUrl, env);
    const b = await openBridge(env, linked.id);
    try {
      expect(textOf(await b.client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toBe('x');
      // From now on every proof carries a stale nonce: the server rotates on each challenge.
      const dpop = rig.mcp.dpop!;
      const check = dpop.check.bind(dpop);
      dpop.check = async (p) => {
        dpop.rotateNonce();
        return check(p);
      };
      const before = rig.mcp.requests.length;
      const challengesBefore = dpop.stats.nonceChallenges;
      const r = await b.client.callTool({ name: 'echo', arguments: { text: 'y' } }).then(
        (v) => ({ ok: true, text: textOf(v) }),
        (e: Error) => ({ ok: false, text: e.message }),
      );
      expect(r.ok).toBe(false);
      expect(r.text).toMatch(/DPoP nonce/);
      // Exactly the request and its one retry.
      expect(rig.mcp.requests.length - before).toBe(2);
      expect(dpop.stats.nonceChallenges - challengesBefore).toBe(2);
    } finally {
      await b.close();
    }
  });
});

/** One POST of an MCP initialize to the server with a token and a proof, as an attacker would replay it. */
async function post(url: string, token: string, proof: string, method = 'POST'): Promise<{ status: number; challenge: string | null }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `DPoP ${token}`, dpop: proof, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    ...(method === 'POST' ? { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'replayer', version: '1' } } }) } : {}),
  });
  await res.body?.cancel();
  return { status: res.status, challenge: res.headers.get('www-authenticate') };
}

describe('a proof is worth one request to one server', () => {
  it('refuses a replayed proof and a proof used for another method or URL; the broker signs for the grant origin only', async () => {
    const { rig, home, env } = await dpopRig('separate-as');
    const linked = await linkJson(rig.mcpUrl, env);
    const token = (await readVault(home)).secrets.tokens[linked.id]!.accessToken;
    // Start the broker with a bridge, then talk to it as a bridge would.
    const b = await openBridge(env, linked.id);
    const c = new BrokerClient({ address: brokerAddress(home), home });
    try {
      const sign = (htm: string, htu: string) => c.request('signProof', { server: linked.id, htm, htu, ath: ath(token) }).then((r) => r.proof);
      const proof = await sign('POST', rig.mcpUrl);
      // Only public parts travel: a public JWK in the header, never the private `d`.
      const header = decodeProtectedHeader(proof);
      expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
      expect(Object.keys(header.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y']);
      expect(decodeJwt(proof)).toMatchObject({ htm: 'POST', htu: rig.mcpUrl, ath: ath(token) });

      expect((await post(rig.mcpUrl, token, proof)).status).toBe(200);
      // The same proof again (copied from a log, a proxy): refused as a replay.
      expect((await post(rig.mcpUrl, token, proof)).status).toBe(401);
      expect(rig.mcp.dpop!.stats.replays).toBe(1);
      // A proof made for POST, used for a GET; one made for another path: refused.
      expect((await post(rig.mcpUrl, token, await sign('POST', rig.mcpUrl), 'GET')).status).toBe(401);
      expect((await post(rig.mcpUrl, token, await sign('POST', `${new URL(rig.mcpUrl).origin}/other`))).status).toBe(401);
      expect(rig.mcp.dpop!.stats.refusals).toEqual(expect.arrayContaining(['jti replayed', 'htm mismatch', 'htu mismatch']));
      // The token without a proof, or as a bearer token: refused.
      const bare = await fetch(rig.mcpUrl, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      expect(bare.status).toBe(401);

      // Query and fragment never reach a proof's htu.
      expect(decodeJwt(await sign('GET', `${rig.mcpUrl}?session=1#x`)).htu).toBe(rig.mcpUrl);
      // A bridge asking for a proof for another origin is refused, whatever the path.
      await expect(sign('POST', 'https://evil.example/mcp')).rejects.toThrow(/only for http:\/\/127\.0\.0\.1/);
      await expect(sign('POST', rig.as.issuer + '/token')).rejects.toThrow(/Refused to sign/);
      // A malformed request is refused before any signature.
      await expect(c.request('signProof', { server: linked.id, htm: 'post', htu: rig.mcpUrl, ath: ath(token) })).rejects.toThrow(/htm/);
      await expect(c.request('signProof', { server: linked.id, htm: 'POST', htu: rig.mcpUrl, ath: 'short' })).rejects.toThrow(/ath/);
    } finally {
      c.close();
      await b.close();
    }
  });

  it('revoke deletes the key: no proof is signed after it, and status no longer shows a binding', async () => {
    const { rig, home, env } = await dpopRig('own-as');
    const linked = await linkJson(rig.mcpUrl, env);
    const token = (await readVault(home)).secrets.tokens[linked.id]!.accessToken;
    expect((await readVault(home)).secrets.dpop?.[linked.id]).toBeDefined();
    // A bridge is running (so is its broker) while the person revokes.
    const b = await openBridge(env, linked.id);
    const c = new BrokerClient({ address: brokerAddress(home), home });
    try {
      const sign = () => c.request('signProof', { server: linked.id, htm: 'POST', htu: rig.mcpUrl, ath: ath(token) });
      expect((await sign()).proof).toMatch(/^ey/);
      const r = await runCli(['revoke', linked.id, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      await expect(sign()).rejects.toThrow(/not DPoP-bound/);
    } finally {
      c.close();
      await b.close();
    }
    const after = await readVault(home);
    expect(after.secrets.dpop?.[linked.id]).toBeUndefined();
    expect(after.servers[linked.id]!.dpop).toBeUndefined();
    const status = JSON.parse((await runCli(['status', linked.id, '--json'], env)).stdout) as LinkJson;
    expect(status.dpop).toBeUndefined();

    // A new sign-in makes a new key; unlink deletes it with the server.
    const again = await linkJson(rig.mcpUrl, env);
    expect(again.dpop?.bound).toBe(true);
    expect(again.dpop!.thumbprint).not.toBe(linked.dpop!.thumbprint);
    expect((await runCli(['unlink', linked.id, '--json'], env)).code).toBe(0);
    const gone = await readVault(home);
    expect(gone.secrets.dpop ?? {}).toEqual({});
  });
});

describe('switching DPoP', () => {
  it('--dpop on against a server that takes only Bearer fails with the reason in words; --dpop off then works', async () => {
    // The rig's usual server: its AS (oidc-provider) advertises DPoP, the MCP server takes Bearer only.
    const rig = await fx.rig('separate-as');
    const home = await fx.home();
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '2' });
    // Automatic: the AS advertises DPoP but the server does not say it takes it: not bound.
    const auto = await linkJson(rig.mcpUrl, env);
    expect(auto.dpop).toBeUndefined();
    const forced = await linkJson(rig.mcpUrl, env, ['--dpop', 'on']);
    expect(forced.dpop?.bound).toBe(true);
    // The session's first request (initialize) already fails, with what to do.
    const r = await openBridge(env, forced.id).then(
      async (b) => {
        await b.close();
        return 'connected';
      },
      (e: Error) => e.message,
    );
    expect(r).toMatch(/does not accept DPoP-bound tokens/);
    expect(r).toContain(`mcp-tokens link ${rig.mcpUrl} --dpop off`);
    // The same reason where the person looks: status (and the app) after the grant was refused.
    const st = JSON.parse((await runCli(['status', forced.id, '--json'], env)).stdout) as { status: string; detail?: string };
    expect(st.status).toBe('needs-reauth');
    expect(st.detail).toContain('does not accept DPoP-bound tokens');
    expect(st.detail).toContain(`mcp-tokens link ${rig.mcpUrl} --dpop off`);
    const off = await linkJson(rig.mcpUrl, env, ['--dpop', 'off']);
    expect(off.dpop).toEqual({ bound: false, off: true });
    expect((await readVault(home)).secrets.dpop?.[off.id]).toBeUndefined();
    const b2 = await openBridge(env, off.id);
    try {
      expect(JSON.parse(textOf(await b2.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('alice');
    } finally {
      await b2.close();
    }
    // Off sticks for a later sign-in that does not say otherwise.
    expect((await linkJson(rig.mcpUrl, env)).dpop).toEqual({ bound: false, off: true });
    const usage = await runCli(['link', rig.mcpUrl, '--dpop', 'maybe'], env);
    expect(usage.code).toBe(2);
  });
});

/** Which needles occur in a live process's readable memory (/proc/<pid>/maps and mem; we run as root). */
async function scanMemory(pid: number, needles: Record<string, Buffer[]>): Promise<{ bytes: number; found: Record<string, boolean> }> {
  const found: Record<string, boolean> = Object.fromEntries(Object.keys(needles).map((k) => [k, false]));
  const maps = await readFile(`/proc/${pid}/maps`, 'utf8');
  const fh = await openFile(`/proc/${pid}/mem`, 'r');
  const CHUNK = 4 * 1024 * 1024;
  const OVERLAP = 128; // a needle across two chunks is still seen
  const buf = Buffer.alloc(CHUNK + OVERLAP);
  let bytes = 0;
  try {
    for (const line of maps.split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) r/.exec(line);
      if (!m || /\[(vvar|vsyscall|vvar_vclock)\]/.test(line)) continue;
      const end = parseInt(m[2]!, 16);
      for (let pos = parseInt(m[1]!, 16); pos < end; pos += CHUNK) {
        const len = Math.min(CHUNK + OVERLAP, end - pos);
        let n: number;
        try {
          n = (await fh.read(buf, 0, len, pos)).bytesRead;
        } catch {
          continue; // a mapping that cannot be read (guard pages)
        }
        bytes += n;
        const view = buf.subarray(0, n);
        for (const [k, list] of Object.entries(needles)) if (!found[k] && list.some((x) => view.includes(x))) found[k] = true;
      }
    }
  } finally {
    await fh.close();
  }
  return { bytes, found };
}

describe('the bridge never holds the key', () => {
  let proxy: Server | undefined;
  it('only proofs and tokens cross the broker socket, and the key is in neither the bridge environment, its memory, nor anything it received', async () => {
    const { rig, home, env } = await dpopRig('separate-as');
    const linked = await linkJson(rig.mcpUrl, env);
    const d = (await readVault(home)).secrets.dpop![linked.id]!.privateJwk.d;
    // The broker listens in one runtime dir; the bridge is pointed at another, where a recording
    // relay passes every byte on to the broker.
    const brokerDir = join(home, 'rt-broker');
    const bridgeDir = join(home, 'rt-bridge');
    for (const dir of [brokerDir, bridgeDir]) await mkdir(join(dir, 'mcp-tokens'), { recursive: true, mode: 0o700 });
    const daemon = spawn(process.execPath, [BIN, 'daemon', '--idle-exit', '5'], { env: { ...env, XDG_RUNTIME_DIR: brokerDir }, stdio: 'ignore' });
    const upstream = brokerAddress(home, process.platform, { XDG_RUNTIME_DIR: brokerDir });
    const probe = new BrokerClient({ address: upstream });
    await waitFor(() => probe.request('hello', {}, 1000).then(() => true, () => false), 30_000, 'the broker');
    probe.close();

    const toBridge: Buffer[] = [];
    const fromBridge: Buffer[] = [];
    proxy = createServer((down) => {
      const up = connect(upstream);
      down.on('data', (c: Buffer) => {
        fromBridge.push(c);
        up.write(c);
      });
      up.on('data', (c: Buffer) => {
        toBridge.push(c);
        down.write(c);
      });
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
      down.on('error', () => {});
      up.on('error', () => {});
    });
    await new Promise<void>((r) => proxy!.listen(brokerAddress(home, process.platform, { XDG_RUNTIME_DIR: bridgeDir }), r));

    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', linked.id], env: { ...env, XDG_RUNTIME_DIR: bridgeDir } as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 'recorded', version: '1.0.0' });
    await client.connect(transport);
    try {
      for (let i = 0; i < 3; i++) expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `r${i}` } }))).toBe(`r${i}`);
      // The bridge's environment holds no key material.
      const environ = await readFile(`/proc/${transport.pid}/environ`, 'latin1');
      expect(environ).not.toContain(d);
      // Nor does its memory: every readable mapping scanned for the key's `d` (as text and as
      // bytes). The token, which the bridge does hold, is found by the same scan.
      const token = (await readVault(home)).secrets.tokens[linked.id]!.accessToken;
      const mem = await scanMemory(transport.pid!, { key: [Buffer.from(d), Buffer.from(d, 'base64url')], token: [Buffer.from(token)] });
      expect(mem.bytes).toBeGreaterThan(10_000_000);
      expect(mem.found.token).toBe(true);
      expect(mem.found.key).toBe(false);
      // The same scan does find the key where it lives: in the broker.
      expect((await scanMemory(daemon.pid!, { key: [Buffer.from(d), Buffer.from(d, 'base64url')] })).found.key).toBe(true);
    } finally {
      await client.close();
      daemon.kill('SIGTERM');
    }

    const received = Buffer.concat(toBridge).toString('utf8');
    const sent = Buffer.concat(fromBridge).toString('utf8');
    expect(received.length).toBeGreaterThan(0);
    expect(received).not.toContain(d);
    expect(sent).not.toContain(d);
    // Every answer is one of the known shapes: tokens, proofs, server views, headers, hello.
    const shapes = new Set<string>();
    for (const line of received.split('\n').filter(Boolean)) {
      const msg = JSON.parse(line) as { result?: Record<string, unknown>; event?: string };
      if (msg.result) shapes.add(Object.keys(msg.result).sort().join(','));
    }
    const allowed = ['accessToken,dpop,expiresAt', 'proof', 'server', 'headers', 'pid,protocol,version', 'ok'];
    for (const shape of shapes) expect(allowed).toContain(shape);
    expect(shapes).toContain('proof');
    // Every request the server authorized had its own proof from the broker (the bridge asks for
    // the next POST's proof ahead, so a few more are signed than used, never one used twice).
    const signs = sent.split('\n').filter((l) => l.includes('"signProof"')).length;
    const authorized = rig.mcp.requests.filter((r) => r.authorized).length;
    expect(rig.mcp.dpop!.stats.accepted).toBe(authorized);
    expect(rig.mcp.dpop!.stats.replays).toBe(0);
    expect(signs).toBeGreaterThanOrEqual(authorized);
    expect(signs).toBeLessThanOrEqual(2 * authorized + 1);
    await new Promise<void>((r) => proxy!.close(() => r()));
  });
});
