import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src-main/cli/args.js';
import { protectedResourceMetadataUrls, selectScopes, validateAsMetadata, validateResourceMetadata } from '../../src-main/core/oauth/discovery.js';
import { checkIss } from '../../src-main/core/oauth/oauth.js';
import { browserCommand, splitCommand } from '../../src-main/core/platform/opener.js';
import { expiringWindowMs, needsRefresh, serverStatus, suggestId, uniqueId } from '../../src-main/core/manager/status.js';
import { findServer } from '../../src-main/core/manager/records.js';
import type { AsMetadata, ServerRecord } from '../../src-main/core/types.js';
import { canonicalResource, isLoopbackHost, safeHttpUrl } from '../../src-main/core/platform/urls.js';

const as = (extra: Record<string, unknown> = {}): AsMetadata => ({ issuer: 'https://as.example', token_endpoint: 'https://as.example/token', ...extra });

describe('URL safety', () => {
  it('allows https anywhere and http only on loopback', () => {
    expect(safeHttpUrl('https://x.example/a', 'u').host).toBe('x.example');
    expect(safeHttpUrl('http://127.0.0.1:99/cb', 'u').port).toBe('99');
    expect(safeHttpUrl('http://[::1]:5/', 'u').hostname).toBe('[::1]');
    expect(() => safeHttpUrl('http://evil.example/', 'authorization endpoint')).toThrow(/plain http to a remote host/);
    expect(() => safeHttpUrl('file:///etc/passwd', 'authorization endpoint')).toThrow(/scheme "file:"/);
    expect(() => safeHttpUrl('javascript:alert(1)', 'u')).toThrow(/scheme/);
    expect(() => safeHttpUrl('not a url', 'u')).toThrow(/not a valid URL/);
    expect(() => safeHttpUrl(42, 'u')).toThrow(/missing or not a string/);
  });
  it('knows loopback hosts', () => {
    expect(isLoopbackHost('127.8.9.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.evil.com')).toBe(false);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });
  it('canonicalizes resources without a fragment or a bare trailing slash', () => {
    expect(canonicalResource('HTTPS://Mcp.Example.com/')).toBe('https://mcp.example.com');
    expect(canonicalResource('https://mcp.example.com/mcp#x')).toBe('https://mcp.example.com/mcp');
    expect(canonicalResource('https://mcp.example.com/mcp/')).toBe('https://mcp.example.com/mcp/');
  });
});

describe('protected resource metadata', () => {
  it('tries path-inserted then root well-known URLs', () => {
    expect(protectedResourceMetadataUrls(new URL('https://h.example/public/mcp')).map(String)).toEqual([
      'https://h.example/.well-known/oauth-protected-resource/public/mcp',
      'https://h.example/.well-known/oauth-protected-resource',
    ]);
    expect(protectedResourceMetadataUrls(new URL('https://h.example/')).map(String)).toEqual(['https://h.example/.well-known/oauth-protected-resource']);
  });
  it('accepts a resource that is the server URL or a parent of it, and refuses others', () => {
    const from = new URL('https://h.example/.well-known/oauth-protected-resource/mcp');
    const server = new URL('https://h.example/mcp');
    expect(validateResourceMetadata({ resource: 'https://h.example/mcp', authorization_servers: ['https://as'] }, server, from).resource).toBe('https://h.example/mcp');
    expect(validateResourceMetadata({ resource: 'https://h.example', authorization_servers: ['https://as'] }, server, from).resource).toBe('https://h.example');
    expect(() => validateResourceMetadata({ resource: 'https://evil.example/mcp', authorization_servers: ['https://as'] }, server, from)).toThrow(/does not match/);
    expect(() => validateResourceMetadata({ resource: 'https://h.example/other', authorization_servers: ['https://as'] }, server, from)).toThrow(/does not match/);
    expect(() => validateResourceMetadata({ authorization_servers: ['https://as'] }, server, from)).toThrow(/no "resource"/);
    expect(() => validateResourceMetadata({ resource: 'https://h.example/mcp', authorization_servers: [] }, server, from)).toThrow(/no authorization_servers/);
  });
});

describe('authorization server metadata', () => {
  it('refuses endpoints with unsafe schemes', () => {
    expect(() => validateAsMetadata(as({ authorization_endpoint: 'file:///etc/passwd' }))).toThrow(/authorization endpoint/);
    expect(() => validateAsMetadata(as({ revocation_endpoint: 'http://remote.example/r' }))).toThrow(/plain http/);
    expect(() => validateAsMetadata({ issuer: 'https://as.example' })).toThrow(/token_endpoint/);
  });
});

describe('scope selection', () => {
  it('prefers the challenge scope, then scopes_supported, then none', () => {
    expect(selectScopes({ scope: 'a b' }, { scopes_supported: ['x'] }, as())).toEqual(['a', 'b']);
    expect(selectScopes({}, { scopes_supported: ['x', 'y'] }, as())).toEqual(['x', 'y']);
    expect(selectScopes({}, undefined, as())).toEqual([]);
  });
  it('adds offline_access only when the AS lists it', () => {
    expect(selectScopes({ scope: 'a' }, undefined, as({ scopes_supported: ['a', 'offline_access'] }))).toEqual(['a', 'offline_access']);
    expect(selectScopes({ scope: 'a offline_access' }, undefined, as({ scopes_supported: ['a'] }))).toEqual(['a']);
  });
  it('uses an explicit override', () => {
    expect(selectScopes({ scope: 'a' }, undefined, as(), ['z'])).toEqual(['z']);
  });
});

describe('RFC 9207 iss check', () => {
  it('accepts a matching iss and an absent one when not promised', () => {
    expect(() => checkIss(new URL('http://127.0.0.1/cb?code=c&iss=https%3A%2F%2Fas.example'), as())).not.toThrow();
    expect(() => checkIss(new URL('http://127.0.0.1/cb?code=c'), as())).not.toThrow();
  });
  it('refuses a different iss, and a missing one when the AS promised it', () => {
    expect(() => checkIss(new URL('http://127.0.0.1/cb?code=c&iss=https%3A%2F%2Fevil'), as())).toThrow(/mix-up/);
    expect(() => checkIss(new URL('http://127.0.0.1/cb?code=c'), as({ authorization_response_iss_parameter_supported: true }))).toThrow(/carries no issuer/);
  });
});

describe('status', () => {
  const rec = (over: Partial<ServerRecord> = {}): ServerRecord => ({
    id: 's', name: 's', url: 'https://h/mcp', resource: 'https://h/mcp', issuer: 'https://as', asMetadata: as(), clientKey: 'k', requestedScopes: [], flow: 'browser',
    createdAt: 0, updatedAt: 0, state: { status: 'ok' }, activity: [],
    grant: { scope: [], tokenType: 'bearer', expiresAt: 10 * 60_000, hasRefreshToken: true, obtainedAt: 0, refreshCount: 0 },
    ...over,
  });
  it('is ok, expiring, or needs-reauth', () => {
    expect(serverStatus(rec(), true, 0).status).toBe('ok');
    expect(serverStatus(rec(), true, 6 * 60_000).status).toBe('expiring');
    expect(serverStatus(rec(), false, 0)).toEqual({ status: 'needs-reauth', reason: 'never-linked' });
    expect(serverStatus(rec({ state: { status: 'needs-reauth', reason: 'revoked' } }), true, 0)).toEqual({ status: 'needs-reauth', reason: 'revoked' });
    const noRt = rec({ grant: { scope: [], tokenType: 'bearer', expiresAt: 1000, hasRefreshToken: false, obtainedAt: 0, refreshCount: 0 } });
    expect(serverStatus(noRt, true, 2000).reason).toBe('expired');
  });
  it('counts a token as expiring with less than min(5 min, half its lifetime) left', () => {
    // A 300-second token (Keycloak's default), issued at t0 by the clock given.
    const t0 = 1_000_000;
    const short = rec({ grant: { scope: [], tokenType: 'bearer', expiresAt: t0 + 300_000, hasRefreshToken: true, obtainedAt: t0, refreshCount: 0 } });
    expect(serverStatus(short, true, t0).status).toBe('ok');
    expect(serverStatus(short, true, t0 + 149_000).status).toBe('ok');
    expect(serverStatus(short, true, t0 + 150_000).status).toBe('expiring');
    // The lifetime counts from the last refresh.
    const refreshed = rec({ grant: { scope: [], tokenType: 'bearer', expiresAt: t0 + 300_000, hasRefreshToken: true, obtainedAt: 0, lastRefreshAt: t0, refreshCount: 1 } });
    expect(serverStatus(refreshed, true, t0 + 1000).status).toBe('ok');
    // A long-lived token: the 5-minute cap.
    const hour = rec({ grant: { scope: [], tokenType: 'bearer', expiresAt: t0 + 3_600_000, hasRefreshToken: true, obtainedAt: t0, refreshCount: 0 } });
    expect(serverStatus(hour, true, t0 + 3_600_000 - 301_000).status).toBe('ok');
    expect(serverStatus(hour, true, t0 + 3_600_000 - 300_000).status).toBe('expiring');
    expect(expiringWindowMs(undefined)).toBe(300_000);
    expect(expiringWindowMs(60_000)).toBe(30_000);
  });
  it('decides refresh by remaining validity', () => {
    expect(needsRefresh(undefined, 0, 60_000)).toBe(false);
    expect(needsRefresh(100_000, 50_000, 60_000)).toBe(true);
    expect(needsRefresh(200_000, 50_000, 60_000)).toBe(false);
  });
  it('suggests readable unique ids', () => {
    expect(suggestId('https://mcp.linear.app/mcp')).toBe('linear');
    expect(suggestId('http://127.0.0.1:4321/mcp')).toBe('local-4321');
    expect(suggestId('https://x.example/', 'My Server!')).toBe('my-server');
    expect(uniqueId('a', (x) => x === 'a' || x === 'a-2')).toBe('a-3');
  });
});

describe('argv and browser command', () => {
  it('parses flags strictly', () => {
    const p = parseArgs(['u', '--name', 'N', '--scope=a b', '--no-open'], { values: ['name', 'scope'], booleans: ['no-open'] });
    expect(p).toEqual({ positionals: ['u'], values: { name: 'N', scope: 'a b' }, flags: new Set(['no-open']), lists: {} });
    const m = parseArgs(['--header', 'A: b', '--header=C: ${D}'], { values: [], booleans: [], multiple: ['header'] });
    expect(m.lists).toEqual({ header: ['A: b', 'C: ${D}'] });
    expect(() => parseArgs(['--no-open=x'], { values: [], booleans: ['no-open'] })).toThrow(/takes no value/);
    expect(() => parseArgs(['--bogus'], { values: [], booleans: [] })).toThrow(UsageError);
    expect(() => parseArgs(['--name'], { values: ['name'], booleans: [] })).toThrow(/needs a value/);
  });
  it('builds the $BROWSER argv with quoting and %s', () => {
    expect(splitCommand(`"/usr/bin/my node" 'a b' c`)).toEqual(['/usr/bin/my node', 'a b', 'c']);
    expect(browserCommand('https://u', { BROWSER: 'firefox --new-tab' }, 'linux')).toEqual(['firefox', '--new-tab', 'https://u']);
    expect(browserCommand('https://u', { BROWSER: 'x %s y:z' }, 'linux')).toEqual(['x', 'https://u', 'y']);
    expect(browserCommand('https://u', {}, 'darwin')).toEqual(['open', 'https://u']);
    expect(browserCommand('https://u', {}, 'linux')).toEqual(['xdg-open', 'https://u']);
  });
});

describe('refresh ahead', () => {
  it('uses the larger of the request and the setting, capped at half the token lifetime', async () => {
    const { minValidityMs } = await import('../../src-main/core/manager/status.js');
    expect(minValidityMs(60_000, 300_000, 3_600_000)).toBe(300_000);
    expect(minValidityMs(60_000, 300_000, 120_000)).toBe(60_000);
    expect(minValidityMs(60_000, 300_000, 4_000)).toBe(2_000);
    expect(minValidityMs(60_000, 300_000, 900_000)).toBe(300_000);
    expect(minValidityMs(60_000, 600_000, 900_000)).toBe(450_000);
    expect(minValidityMs(60_000, 300_000, undefined)).toBe(300_000);
    expect(minValidityMs(60_000, 0, 3_600_000)).toBe(60_000);
  });
});

describe('finding a linked server', () => {
  const data = { servers: { demo: { id: 'demo', url: 'https://mcp.example.com/mcp' } } } as unknown as import('../../src-main/core/types.js').VaultData;
  it('by id, by URL, and by URL with a fragment', () => {
    expect(findServer(data, 'demo').id).toBe('demo');
    expect(findServer(data, 'https://mcp.example.com/mcp').id).toBe('demo');
    expect(findServer(data, 'https://mcp.example.com/mcp#x').id).toBe('demo');
  });
  it('an unknown id is "not linked", not "not a URL"', () => {
    expect(() => findServer(data, 'nope')).toThrow(/No linked server "nope"/);
    expect(() => findServer(data, 'https://other.example/mcp')).toThrow(/No linked server/);
  });
});
