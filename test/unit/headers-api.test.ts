// `servers/setHeaders` of the UI contract over a real Manager and vault: the rules in UI words,
// "keep" rows that keep the stored value (the UI never has it), a masked value that can never be
// stored, and no stored literal value in anything the UI receives (results and events).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkCallArgs, type ApiEvents, type ApiHandlers, type HeaderEdit } from '../../src-shared/contract.js';
import { createApiService, memorySettings, toApiError, type HostedApiService } from '../../src-main/core/api/service.js';
import { headerSummaries, resolveHeaderEdits } from '../../src-main/core/api/headers.js';
import { Broker } from '../../src-main/core/broker/broker.js';
import { Manager } from '../../src-main/core/manager/manager.js';
import { systemClock } from '../../src-main/core/platform/services.js';
import { keyCipher } from '../../src-main/core/vault/cipher.js';
import { nodeFileSystem } from '../../src-main/core/vault/fs.js';
import { Vault } from '../../src-main/core/vault/vault.js';
import { headerEdits, headerRows } from '../../src-renderer/view/headers.js';

const LITERAL = 'sk-live-HEADER-SECRET-5150';
const OTHER = 'second-LITERAL-secret-77';
const logger = { log: () => {} };

let home: string;
let manager: Manager;
let service: HostedApiService;
let h: ApiHandlers;
/** Everything the UI was sent: results and pushed events, as JSON. */
const seen: string[] = [];
let events = 0;

/** Calls a channel the way a host does: arguments validated by the contract first. */
async function call<C extends keyof ApiHandlers>(channel: C, ...args: unknown[]): Promise<Awaited<ReturnType<ApiHandlers[C]>>> {
  const parsed = checkCallArgs(channel, args) as unknown[];
  const r = await (h[channel] as (...a: unknown[]) => Promise<unknown>)(...parsed);
  seen.push(JSON.stringify(r));
  return r as Awaited<ReturnType<ApiHandlers[C]>>;
}

/** The error a UI would see for a call. */
async function uiErrorOf(edits: unknown): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await call('servers/setHeaders', 'acme', edits);
  } catch (err) {
    const e = toApiError(err);
    seen.push(JSON.stringify(e));
    return e;
  }
  throw new Error('expected a refusal');
}

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'headers-api-'));
  const cipher = keyCipher(Buffer.alloc(32, 9), 'test', 'test key', false);
  const vault = await Vault.open({ home, fs: nodeFileSystem, cipher, clock: systemClock });
  manager = new Manager({ vault, cipher, clock: systemClock, opener: { open: async () => {} }, logger });
  // A linked server as the vault holds it (linking itself is tested against the rig elsewhere).
  await vault.update((d) => {
    const now = Date.now();
    d.servers.acme = {
      id: 'acme',
      name: 'Acme',
      url: 'https://mcp.acme.example/mcp',
      resource: 'https://mcp.acme.example/mcp',
      issuer: 'https://auth.acme.example',
      asMetadata: { issuer: 'https://auth.acme.example' },
      clientKey: 'https://auth.acme.example',
      requestedScopes: [],
      flow: 'browser',
      createdAt: now,
      updatedAt: now,
      state: { status: 'needs-reauth', reason: 'never-linked' },
      activity: [],
    };
  });
  const broker = new Broker({ manager, clock: systemClock, logger, vaultStamp: () => vault.stamp() });
  service = createApiService({
    home,
    manager,
    broker,
    cipher,
    opener: { open: async () => {} },
    settings: memorySettings(),
    host: 'browser',
    version: 'test',
    clock: systemClock,
    logger,
    env: { HOME: home },
    usedBy: async () => new Map(),
  });
  service.on('servers/changed', (p: ApiEvents['servers/changed']) => {
    events++;
    seen.push(JSON.stringify(p));
  });
  h = service.handlers;
  seen.length = 0;
  events = 0;
});

afterEach(async () => {
  await service.close();
  await rm(home, { recursive: true, force: true });
});

describe('servers/setHeaders', () => {
  it('stores a literal and a ${VAR} value; the UI gets the literal masked and the reference as written', async () => {
    const r = await call('servers/setHeaders', 'acme', [
      { name: 'X-Api-Key', value: LITERAL },
      { name: 'X-Team', value: '${TEAM}' },
      { name: 'X-Mixed', value: `Bearer ${OTHER} \${TOKEN}` },
    ]);
    expect(r.headers).toEqual([
      { name: 'X-Api-Key', value: '•••', hidden: true },
      { name: 'X-Team', value: '${TEAM}', hidden: false },
      { name: 'X-Mixed', value: '•••${TOKEN}', hidden: true },
    ]);
    // What the bridge gets through the broker: as written.
    expect(await manager.headersFor('acme')).toEqual([
      { name: 'X-Api-Key', value: LITERAL },
      { name: 'X-Team', value: '${TEAM}' },
      { name: 'X-Mixed', value: `Bearer ${OTHER} \${TOKEN}` },
    ]);
    expect((await call('servers/get', 'acme')).headers).toEqual(r.headers);
    expect((await call('servers/list'))[0]!.headers).toEqual(r.headers);
    // Sealed on disk.
    expect(await readFile(join(home, 'vault.json'), 'latin1')).not.toContain(LITERAL);
  });

  it('keeps a stored value for a row sent as keep, also under a new name, and removes rows left out', async () => {
    await call('servers/setHeaders', 'acme', [
      { name: 'X-Api-Key', value: LITERAL },
      { name: 'X-Other', value: OTHER },
      { name: 'X-Team', value: '${TEAM}' },
    ]);
    const r = await call('servers/setHeaders', 'acme', [
      { name: 'x-api-key', keep: true },
      { name: 'X-Renamed', keep: true, from: 'X-Other' },
      { name: 'X-Team', value: '${TEAM_2}' },
      { name: 'X-New', value: 'plain' },
    ]);
    expect(await manager.headersFor('acme')).toEqual([
      { name: 'x-api-key', value: LITERAL },
      { name: 'X-Renamed', value: OTHER },
      { name: 'X-Team', value: '${TEAM_2}' },
      { name: 'X-New', value: 'plain' },
    ]);
    expect(r.headers.map((x) => x.value)).toEqual(['•••', '•••', '${TEAM_2}', '•••']);
    // Left out: removed; an empty list removes them all.
    await call('servers/setHeaders', 'acme', [{ name: 'X-Renamed', keep: true }]);
    expect(await manager.headersFor('acme')).toEqual([{ name: 'X-Renamed', value: OTHER }]);
    expect((await call('servers/setHeaders', 'acme', [])).headers).toEqual([]);
    expect(await manager.headersFor('acme')).toEqual([]);
  });

  it('the editor’s rows round-trip: untouched rows are sent as keep, never with the masked value', async () => {
    const first = await call('servers/setHeaders', 'acme', [
      { name: 'X-Api-Key', value: LITERAL },
      { name: 'X-Team', value: '${TEAM}' },
    ]);
    let k = 0;
    const rows = headerRows(first.headers, () => k++);
    expect(rows.map((r) => r.value)).toEqual(['', '${TEAM}']);
    // Nothing touched: all keep.
    expect(headerEdits(rows)).toEqual([
      { name: 'X-Api-Key', keep: true },
      { name: 'X-Team', keep: true },
    ]);
    // Renamed and changed.
    const edited = [{ ...rows[0]!, name: 'X-Key' }, { ...rows[1]!, value: '${TEAM_B}' }, { key: 9, name: 'X-New', value: 'n' }];
    const edits = headerEdits(edited);
    expect(edits).toEqual([
      { name: 'X-Key', keep: true, from: 'X-Api-Key' },
      { name: 'X-Team', value: '${TEAM_B}' },
      { name: 'X-New', value: 'n' },
    ]);
    expect(JSON.stringify(edits)).not.toContain('•');
    await call('servers/setHeaders', 'acme', edits);
    expect(await manager.headersFor('acme')).toEqual([
      { name: 'X-Key', value: LITERAL },
      { name: 'X-Team', value: '${TEAM_B}' },
      { name: 'X-New', value: 'n' },
    ]);
  });

  it('refuses bad input in UI words, row by row, and stores nothing then', async () => {
    await call('servers/setHeaders', 'acme', [{ name: 'X-Api-Key', value: LITERAL }]);
    const cases: Array<[HeaderEdit[], RegExp, RegExp?]> = [
      [[{ name: 'Authorization', value: 'Bearer x' }], /^The header Authorization cannot be set here: the app sends the sign-in token in it\.$/, /X-Api-Key/],
      [[{ name: 'host', value: 'evil.example' }], /^The header host cannot be set here: the app sets it itself on every request\.$/],
      [[{ name: 'Mcp-Session-Id', value: 'x' }], /cannot be set here/],
      [[{ name: 'Bad Name', value: 'x' }], /^The name of header 1 is not a valid header name\.$/, /letters, digits and dashes/],
      [[{ name: 'X-Ok', value: 'a' }, { name: 'X-Api-Key: sk-pasted', value: '' }], /^The name of header 2 has a colon in it\.$/, /value in the value box/],
      [[{ name: '  ', value: 'x' }], /^Header 1 has no name\.$/],
      [[{ name: 'X-A', value: 'one\ntwo' }], /^The value of “X-A” must be one line of at most 8192 characters\.$/],
      [[{ name: 'X-A', value: 'x'.repeat(8193) }], /at most 8192 characters/],
      [[{ name: 'X-A', value: 'café ☕' }], /^The value of “X-A” has characters a header cannot carry\.$/],
      [[{ name: 'X-A', value: '' }], /^Type a value for “X-A”, or remove the row\.$/],
      [[{ name: 'X-Api-Key', value: '•••' }], /^The value of “X-Api-Key” is the hidden placeholder \(•••\), not a value\.$/, /Leave the value empty to keep the saved one/],
      [[{ name: 'X-Api-Key', value: '•••${T}' }], /hidden placeholder/],
      [[{ name: 'X-Gone', keep: true }], /^The saved value of “X-Gone” is not there any more/],
      [[{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }], /^The header x-a is listed twice\.$/, /not case-sensitive/],
      [Array.from({ length: 21 }, (_, i) => ({ name: `X-H${i}`, value: 'v' })), /^A server can have at most 20 headers; this list has 21\.$/],
    ];
    for (const [edits, message, hint] of cases) {
      const e = await uiErrorOf(edits);
      expect(e.code, JSON.stringify(edits).slice(0, 80)).toBe('usage');
      expect(e.message).toMatch(message);
      if (hint) expect(e.hint).toMatch(hint);
      // Words for a window: no command line, no flag.
      expect(`${e.message} ${e.hint ?? ''}`).not.toMatch(/mcp-tokens|--header|--[a-z]/);
    }
    // A pasted "Name: value" is never echoed back.
    expect(seen.join('\n')).not.toContain('sk-pasted');
    // Nothing changed.
    expect(await manager.headersFor('acme')).toEqual([{ name: 'X-Api-Key', value: LITERAL }]);
  });

  it('the contract refuses malformed rows before the handler sees them', async () => {
    for (const bad of [[{ name: 'X-A', value: 'v', keep: true }], [{ name: 'X-A', keep: false }], [{ name: 'X-A' }], [{ value: 'v' }], 'X-A: v']) {
      expect(() => checkCallArgs('servers/setHeaders', ['acme', bad])).toThrow(/Invalid arguments for servers\/setHeaders/);
    }
    const gone = await call('servers/setHeaders', 'nope', []).catch((e: unknown) => toApiError(e));
    expect(gone).toMatchObject({ code: 'not-found', message: 'This server is not in the list any more.' });
  });

  it('no stored literal value in anything the UI was sent, events included', async () => {
    await call('servers/setHeaders', 'acme', [
      { name: 'X-Api-Key', value: LITERAL },
      { name: 'X-Other', value: `pre-${OTHER}` },
    ]);
    await call('servers/setHeaders', 'acme', [{ name: 'X-Api-Key', keep: true }, { name: 'X-Other', keep: true }, { name: 'X-Team', value: '${TEAM}' }]);
    await call('servers/get', 'acme');
    await call('servers/list');
    await uiErrorOf([{ name: 'X-Api-Key', keep: true }, { name: 'x-api-key', value: '${X}' }]);
    // The pushed servers/changed events arrive after the handler returns.
    await expect.poll(() => events).toBeGreaterThanOrEqual(2);
    const all = seen.join('\n');
    expect(all).toContain('X-Api-Key');
    expect(all).toContain('${TEAM}');
    expect(all).not.toContain(LITERAL);
    expect(all).not.toContain(OTHER);
  });
});

describe('resolveHeaderEdits', () => {
  it('trims names and values, and a kept row takes the stored value verbatim', () => {
    expect(resolveHeaderEdits([{ name: ' X-A ', value: '  v  ' }, { name: 'X-B', keep: true }], [{ name: 'x-b', value: ' stored ' }])).toEqual([
      { name: 'X-A', value: 'v' },
      { name: 'X-B', value: ' stored ' },
    ]);
  });
});

describe('headerSummaries', () => {
  it('masks whatever it is given (idempotent over the manager’s masked view)', () => {
    const raw = [
      { name: 'X-A', value: LITERAL },
      { name: 'X-B', value: '${B}' },
      { name: 'X-C', value: `x-${OTHER}-\${C}` },
    ];
    const once = headerSummaries(raw);
    expect(once).toEqual([
      { name: 'X-A', value: '•••', hidden: true },
      { name: 'X-B', value: '${B}', hidden: false },
      { name: 'X-C', value: '•••${C}', hidden: true },
    ]);
    expect(headerSummaries(once)).toEqual(once);
  });
});
