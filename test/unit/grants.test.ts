// Grants no person approves (issue 25): which client authentication and algorithm are chosen,
// what link refuses before a browser opens, the status of machine grants, the assertion file,
// and what goes over the wire to a small real token endpoint on 127.0.0.1.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importSPKI, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import * as grants from '../../src-main/core/oauth/grants.js';
import { readAssertion } from '../../src-main/core/manager/grants-obtain.js';
import { fittingGrantOptions, grantView, machineStatus, refuseUnofferedGrant, refuseWithoutCodeGrant } from '../../src-main/core/manager/grants-view.js';
import type { AsMetadata, ServerRecord, VaultData } from '../../src-main/core/types.js';
import { emptyVault } from '../../src-main/core/vault/vault.js';
import { trayMenu } from '../../src-main/core/app-model/tray.js';
import { notificationsFor } from '../../src-main/core/app-model/notify.js';

const as = (extra: Record<string, unknown> = {}): AsMetadata => ({ issuer: 'https://as.example.com', token_endpoint: 'https://as.example.com/token', ...extra });

const pem = {
  p256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  rsa: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ed: () => generateKeyPairSync('ed25519'),
};
const privPem = (k: ReturnType<typeof generateKeyPairSync>) => k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('which grant link offers', () => {
  it('refuses a browser sign-in at an AS that issues no codes, naming the options that fit, before any browser', () => {
    expect(() => refuseWithoutCodeGrant(as({ grant_types_supported: ['client_credentials'] }), 'browser')).toThrow(/does not offer sign-in by a person.*client_credentials/);
    try {
      refuseWithoutCodeGrant(as({ grant_types_supported: ['urn:ietf:params:oauth:grant-type:jwt-bearer'] }), 'browser');
      expect.unreachable();
    } catch (e) {
      const hint = (e as { hint?: string }).hint ?? '';
      expect(hint).toContain('--idp <name>');
      expect(hint).toContain('--assertion-file F --grant jwt-bearer');
      expect(hint).not.toContain('client-credentials');
    }
  });

  it('lets a browser sign-in through when the AS lists authorization_code or says nothing (RFC 8414 default)', () => {
    expect(() => refuseWithoutCodeGrant(as({ grant_types_supported: ['authorization_code', 'refresh_token'] }), 'browser')).not.toThrow();
    expect(() => refuseWithoutCodeGrant(as(), 'browser')).not.toThrow();
    expect(() => refuseWithoutCodeGrant(as(), 'device')).not.toThrow();
    expect(() => refuseWithoutCodeGrant(as())).not.toThrow();
    // A device-only AS is sign-in by a person too.
    expect(() => refuseWithoutCodeGrant(as({ device_authorization_endpoint: 'https://as.example.com/device', grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code'] }))).not.toThrow();
    expect(() => refuseWithoutCodeGrant(as({ authorization_endpoint: 'https://as.example.com/auth', grant_types_supported: ['client_credentials'] }))).toThrow(/does not offer sign-in by a person/);
  });

  it('refuses a machine grant the AS lists as not offered, and accepts it when the AS says nothing', () => {
    expect(() => refuseUnofferedGrant(as({ grant_types_supported: ['authorization_code'] }), 'client_credentials', 'client credentials')).toThrow(/does not offer client credentials/);
    expect(() => refuseUnofferedGrant(as(), 'client_credentials', 'client credentials')).not.toThrow();
    expect(fittingGrantOptions(as({ grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'] }))).toHaveLength(3);
  });
});

describe('client authentication for machine grants', () => {
  it('follows the advertised methods: a key means private_key_jwt, a secret basic or post', () => {
    expect(grants.chooseMachineAuth(as({ token_endpoint_auth_methods_supported: ['private_key_jwt'] }), { clientId: 'c', privateKeyPem: 'k' }).method).toBe('private_key_jwt');
    expect(() => grants.chooseMachineAuth(as({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }), { clientId: 'c', privateKeyPem: 'k' })).toThrow(/does not accept private_key_jwt/);
    expect(grants.chooseMachineAuth(as({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }), { clientId: 'c', secret: 's' }).method).toBe('client_secret_basic');
    expect(grants.chooseMachineAuth(as({ token_endpoint_auth_methods_supported: ['client_secret_post'] }), { clientId: 'c', secret: 's' }).method).toBe('client_secret_post');
    expect(() => grants.chooseMachineAuth(as({ token_endpoint_auth_methods_supported: ['private_key_jwt'] }), { clientId: 'c', secret: 's' })).toThrow(/does not accept a client secret/);
    expect(grants.chooseMachineAuth(as({ token_endpoint_auth_methods_supported: ['none'] }), { clientId: 'c' }).method).toBe('none');
    expect(grants.chooseMachineAuth(as(), {}).method).toBe('anonymous');
  });

  it('takes the JWS algorithm from the key type, and refuses what cannot sign', () => {
    expect(grants.keyAlgorithm(privPem(pem.p256())).alg).toBe('ES256');
    expect(grants.keyAlgorithm(privPem(pem.p384())).alg).toBe('ES384');
    expect(grants.keyAlgorithm(privPem(pem.rsa())).alg).toBe('RS256');
    expect(grants.keyAlgorithm(privPem(pem.ed())).alg).toBe('EdDSA');
    expect(() => grants.keyAlgorithm('not a key')).toThrow(/not a PEM private key/);
    const x = generateKeyPairSync('x25519');
    expect(() => grants.keyAlgorithm(privPem(x))).toThrow(/cannot sign/);
  });
});

describe('status of grants no person renews', () => {
  const rec = (extra: Partial<ServerRecord>): ServerRecord =>
    ({
      id: 's',
      name: 'S',
      url: 'https://mcp.example.com/mcp',
      resource: 'https://mcp.example.com/mcp',
      issuer: 'https://as.example.com',
      asMetadata: as(),
      clientKey: 'k',
      requestedScopes: [],
      flow: 'browser',
      createdAt: 0,
      updatedAt: 0,
      state: { status: 'ok' },
      grant: { scope: [], tokenType: 'bearer', expiresAt: 1000, hasRefreshToken: false, obtainedAt: 0, refreshCount: 0 },
      activity: [],
      ...extra,
    }) as ServerRecord;

  it('an expired machine token is ok (the broker gets a new one), not needs-reauth', () => {
    const d = emptyVault();
    expect(machineStatus(d, rec({ grantKind: 'client_credentials' }), true, 5000, 60_000)).toEqual({ status: 'ok' });
    expect(machineStatus(d, rec({}), true, 5000, 60_000)).toBeUndefined();
  });

  it('every server of an IdP whose session ended says one thing: sign in to that IdP', () => {
    const d: VaultData = { ...emptyVault(), idps: { acme: { name: 'acme', issuer: 'https://idp', clientId: 'c', metadata: as(), tokenEndpointAuthMethod: 'none', hasSecret: false, createdAt: 0, state: { status: 'needs-sign-in', detail: 'acme refused to renew the sign-in' } } } };
    const st = machineStatus(d, rec({ grantKind: 'idp', idp: 'acme' }), true, 0, 60_000);
    expect(st?.status).toBe('needs-reauth');
    expect(st?.detail).toMatch(/^Needs sign-in to acme/);
    expect(machineStatus(emptyVault(), rec({ grantKind: 'idp', idp: 'gone' }), true, 0, 60_000)?.detail).toMatch(/was removed/);
    expect(grantView(rec({ grantKind: 'idp', idp: 'acme' })).label).toBe('Company sign-in through acme');
    expect(grantView(rec({ grantKind: 'jwt_bearer', assertionFile: '/x' }))).toEqual({ kind: 'jwt_bearer', label: 'Workload identity', assertionFile: '/x' });
  });
});

describe('the assertion file', () => {
  it('is read anew each time, and refused when empty or not a JWT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'grants-'));
    try {
      const f = join(dir, 'token');
      await writeFile(f, 'aaa.bbb.ccc\n');
      expect(await readAssertion(f)).toBe('aaa.bbb.ccc');
      await writeFile(f, 'ddd.eee.fff');
      expect(await readAssertion(f)).toBe('ddd.eee.fff');
      await writeFile(f, '  \n');
      await expect(readAssertion(f)).rejects.toThrow(/is empty/);
      await writeFile(f, 'hello world');
      await expect(readAssertion(f)).rejects.toThrow(/does not hold a JWT/);
      await expect(readAssertion(join(dir, 'missing'))).rejects.toThrow(/Cannot read the assertion file .*ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('on the wire (a real token endpoint on 127.0.0.1)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });
  async function tokenEndpoint(answer: Record<string, unknown> = { access_token: 'at-1', token_type: 'Bearer', expires_in: 60 }, status = 200) {
    const seen: Array<{ headers: IncomingMessage['headers']; body: URLSearchParams }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: new URLSearchParams(body) });
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { meta: { issuer: base, token_endpoint: `${base}/token`, token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'] } as AsMetadata, seen };
  }

  it('private_key_jwt: iss = sub = client id, aud = the AS issuer, a jti, a short exp, signed with the key', async () => {
    const { meta, seen } = await tokenEndpoint();
    const k = pem.p256();
    const config = await grants.machineConfig(meta, { method: 'private_key_jwt', clientId: 'robot', privateKeyPem: privPem(k) });
    const t = await grants.clientCredentials(config, { resource: 'https://mcp.example.com/mcp', scopes: ['a', 'b'] });
    expect(t.accessToken).toBe('at-1');
    const b = seen[0]!.body;
    expect(b.get('grant_type')).toBe('client_credentials');
    expect(b.get('resource')).toBe('https://mcp.example.com/mcp');
    expect(b.get('scope')).toBe('a b');
    expect(b.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const { payload, protectedHeader } = await jwtVerify(b.get('client_assertion')!, await importSPKI(k.publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'ES256'), { audience: meta.issuer, issuer: 'robot', subject: 'robot' });
    expect(protectedHeader.alg).toBe('ES256');
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    expect(seen[0]!.headers.authorization).toBeUndefined();
  });

  it('refuses a key whose algorithm the AS does not list', async () => {
    const { meta } = await tokenEndpoint();
    await expect(grants.machineConfig({ ...meta, token_endpoint_auth_signing_alg_values_supported: ['RS256'] }, { method: 'private_key_jwt', clientId: 'robot', privateKeyPem: privPem(pem.p256()) })).rejects.toThrow(/not ES256/);
  });

  it('JWT bearer and token exchange send what RFC 7523 and RFC 8693 say; an anonymous workload sends no client', async () => {
    const { meta, seen } = await tokenEndpoint({ access_token: 'jag', issued_token_type: grants.TOKEN_TYPE_ID_JAG, token_type: 'N_A' });
    const anon = await grants.machineConfig(meta, { method: 'anonymous' });
    await grants.jwtBearer(anon, 'x.y.z', { resource: 'https://r' }).catch(() => undefined); // 'N_A' is not a token type for a bearer grant
    expect(seen[0]!.body.get('grant_type')).toBe(grants.GRANT_JWT_BEARER);
    expect(seen[0]!.body.get('assertion')).toBe('x.y.z');
    expect(seen[0]!.body.has('client_id')).toBe(false);
    const idp = await grants.machineConfig(meta, { method: 'none', clientId: 'idp-client' });
    expect(await grants.exchangeForIdJag(idp, 'id.tok.en', { audience: 'https://as.example.com', resource: 'https://r', scopes: ['s'] })).toBe('jag');
    const x = seen[1]!.body;
    expect(Object.fromEntries(x)).toMatchObject({
      grant_type: grants.GRANT_TOKEN_EXCHANGE,
      requested_token_type: grants.TOKEN_TYPE_ID_JAG,
      subject_token: 'id.tok.en',
      subject_token_type: grants.TOKEN_TYPE_ID_TOKEN,
      audience: 'https://as.example.com',
      resource: 'https://r',
      scope: 's',
      client_id: 'idp-client',
    });
  });

  it('an invalid_grant is a refusal (dead grant), in the AS words', async () => {
    const { meta } = await tokenEndpoint({ error: 'invalid_grant', error_description: 'assertion expired' }, 400);
    const config = await grants.machineConfig(meta, { method: 'anonymous' });
    await expect(grants.jwtBearer(config, 'x.y.z', { resource: 'https://r' })).rejects.toMatchObject({ kind: 'dead-grant', oauthError: 'invalid_grant', message: expect.stringContaining('assertion expired') });
  });
});

describe('the tray asks once per company IdP whose session ended', () => {
  it('one "Sign in to acme" for two servers of acme, beside the usual item for a server of its own', () => {
    const base = { url: 'https://x/mcp', resource: 'https://x/mcp', issuer: 'https://as', scopes: [], hasRefreshToken: false, registration: { method: 'pre-registered' }, flow: 'browser' as const, activity: [], usedBy: [], headers: [] };
    const idpServer = (id: string) => ({ ...base, id, name: id, status: 'needs-reauth' as const, reason: 'expired' as const, detail: 'Needs sign-in to acme: acme refused to renew the sign-in', grant: { kind: 'idp' as const, label: 'Company sign-in through acme', idp: 'acme' } });
    const m = trayMenu({ servers: [idpServer('tracker'), idpServer('wiki'), { ...base, id: 'other', name: 'other', status: 'needs-reauth', reason: 'revoked' }], now: 0 });
    const asks = m.items.filter((i) => i.type === 'item' && i.action?.kind === 'reauthorize').map((i) => (i.type === 'item' ? i.label : ''));
    expect(asks).toEqual(['Sign in to acme', 'Sign in again to other']);
    expect(m.badge).toBe(3);
  });
});

describe('notifications for a company IdP whose session ended', () => {
  const base = { url: 'https://x/mcp', resource: 'https://x/mcp', issuer: 'https://as', scopes: [], hasRefreshToken: false, registration: { method: 'pre-registered' }, flow: 'browser' as const, activity: [], usedBy: [], headers: [] };
  const ok = (id: string) => ({ ...base, id, name: id, status: 'ok' as const, grant: { kind: 'idp' as const, label: 'Company sign-in through acme', idp: 'acme' } });
  const ended = (id: string) => ({ ...ok(id), status: 'needs-reauth' as const, reason: 'expired' as const, detail: 'Needs sign-in to acme: acme refused to renew the sign-in' });

  it('one "Sign in to acme" for its servers, and nothing more when another of them follows', () => {
    const first = notificationsFor([ok('tracker'), ok('wiki'), ok('crm')], [ended('tracker'), ended('wiki'), ok('crm')], new Set());
    expect(first.notifications.map((n) => n.title)).toEqual(['Sign in to acme']);
    expect(first.notifications[0]!.body).toContain('tracker, wiki wait for it');
    const later = notificationsFor([ended('tracker'), ended('wiki'), ok('crm')], [ended('tracker'), ended('wiki'), ended('crm')], first.notified);
    expect(later.notifications).toEqual([]);
    // Back after the sign-in, then ended again: news again.
    const back = notificationsFor([ended('tracker')], [ok('tracker'), ok('wiki'), ok('crm')], later.notified);
    expect(notificationsFor([ok('tracker')], [ended('tracker')], back.notified).notifications.map((n) => n.title)).toEqual(['Sign in to acme']);
  });
});
