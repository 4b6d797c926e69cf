// A DPoP-bound grant as the broker and the UI see it, over a real Manager and vault: the UI gets
// "bound" and the public thumbprint (never the key); the broker signs proofs for the grant's own
// origin only, keeps the server's nonce, and stops signing once the key is gone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiService, memorySettings, type HostedApiService } from '../../src-main/core/api/service.js';
import { Broker } from '../../src-main/core/broker/broker.js';
import { Manager } from '../../src-main/core/manager/manager.js';
import { athOf, generateDpopKey } from '../../src-main/core/oauth/dpop.js';
import { systemClock } from '../../src-main/core/platform/services.js';
import { keyCipher } from '../../src-main/core/vault/cipher.js';
import { nodeFileSystem } from '../../src-main/core/vault/fs.js';
import { Vault } from '../../src-main/core/vault/vault.js';

const logger = { log: () => {} };
const URL_ = 'https://mcp.acme.example/mcp';
let home: string;
let vault: Vault;
let broker: Broker;
let service: HostedApiService;
const key = generateDpopKey();

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'dpop-broker-'));
  const cipher = keyCipher(Buffer.alloc(32, 7), 'test', 'test key', false);
  vault = await Vault.open({ home, fs: nodeFileSystem, cipher, clock: systemClock });
  const manager = new Manager({ vault, cipher, clock: systemClock, opener: { open: async () => {} }, logger });
  await vault.update((d) => {
    const now = Date.now();
    d.servers.acme = {
      id: 'acme',
      name: 'Acme',
      url: URL_,
      resource: URL_,
      issuer: 'https://auth.acme.example',
      asMetadata: { issuer: 'https://auth.acme.example' },
      clientKey: 'https://auth.acme.example',
      requestedScopes: [],
      flow: 'browser',
      createdAt: now,
      updatedAt: now,
      state: { status: 'ok' },
      grant: { scope: [], tokenType: 'dpop', expiresAt: now + 3_600_000, hasRefreshToken: false, obtainedAt: now, refreshCount: 0 },
      activity: [],
      dpop: { mode: 'bound', jkt: key.jkt, alg: 'ES256' },
    };
    d.secrets.tokens.acme = { accessToken: 'the-access-token' };
    d.secrets.dpop = { acme: { privateJwk: key.privateJwk } };
  });
  broker = new Broker({ manager, clock: systemClock, logger, vaultStamp: () => vault.stamp() });
  service = createApiService({ home, manager, broker, cipher, opener: { open: async () => {} }, settings: memorySettings(), host: 'browser', version: 'test', clock: systemClock, logger, env: { HOME: home }, usedBy: async () => new Map() });
});

afterEach(async () => {
  await service.close();
  await rm(home, { recursive: true, force: true });
});

describe('a DPoP-bound grant', () => {
  it('shows as DPoP-bound with its thumbprint in the UI, never with the key', async () => {
    const list = await service.handlers['servers/list']();
    expect(list[0]!.dpop).toEqual({ bound: true, thumbprint: key.jkt });
    const json = JSON.stringify([list, await service.handlers['servers/get']('acme')]);
    expect(json).not.toContain(key.privateJwk.d);
  });

  it('hands the token out marked DPoP, and signs proofs for its own origin only', async () => {
    expect(await broker.getToken('acme', 60)).toMatchObject({ accessToken: 'the-access-token', dpop: true });
    const ath = athOf('the-access-token');
    const { proof } = await broker.signProof({ server: 'acme', htm: 'POST', htu: `${URL_}?q=1`, ath });
    expect(decodeJwt(proof)).toMatchObject({ htm: 'POST', htu: URL_, ath });
    expect(decodeJwt(proof).nonce).toBeUndefined();
    await expect(broker.signProof({ server: 'acme', htm: 'POST', htu: 'https://evil.example/mcp', ath })).rejects.toThrow(/only for https:\/\/mcp\.acme\.example/);
    await expect(broker.signProof({ server: 'acme', htm: 'POST', htu: 'https://mcp.acme.example:444/mcp', ath })).rejects.toThrow(/Refused/);
    // The server's nonce is kept for the requests after, from any bridge.
    await broker.signProof({ server: 'acme', htm: 'POST', htu: URL_, ath, nonce: 'n-42' });
    expect(decodeJwt((await broker.signProof({ server: 'acme', htm: 'GET', htu: URL_, ath })).proof).nonce).toBe('n-42');
    // The key gone (revoked elsewhere): nothing more is signed.
    await vault.update((d) => {
      delete d.secrets.dpop;
    });
    await expect(broker.signProof({ server: 'acme', htm: 'POST', htu: URL_, ath })).rejects.toThrow(/not DPoP-bound/);
    expect((await service.handlers['servers/list']())[0]!.dpop).toBeUndefined();
  });
});
