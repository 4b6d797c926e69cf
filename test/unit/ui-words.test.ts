// UI words: core's CLI wording never reaches a window; the technical text is kept as detail.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../src-main/core/api/service.js';
import { fileSettings, UI_SETTINGS_FILE } from '../../src-main/core/api/settings-file.js';
import { uiError, uiProgressLine } from '../../src-main/core/api/words.js';
import { UserError } from '../../src-main/core/platform/errors.js';
import { DEFAULT_SETTINGS } from '../../src-shared/contract.js';

const CLI_WORDS = /mcp-tokens|Run the command|Ctrl-C|--flow|--client-id|tray →/;

describe('UI words', () => {
  it('words a denied sign-in for the window, keeping the original as detail', () => {
    const e = toApiError(new UserError('authorization', 'You declined the authorization in the browser.', 'Run the command again to approve.'));
    expect(e.message).toBe('You declined the sign-in in the browser, so nothing was saved.');
    expect(e.hint).toBe('Choose “Try again” when you want to approve it.');
    expect(`${e.message} ${e.hint}`).not.toMatch(CLI_WORDS);
    // The folded account keeps the technical sentence, without the terminal's advice.
    expect(e.detail).toBe('You declined the authorization in the browser.');
  });

  it('rewrites the CLI advice of every kind it knows, and drops what only a terminal can use', () => {
    const cases = [
      new UserError('timeout', 'No answer from the browser within 5 min; sign-in cancelled.', 'Run the command again when you are ready to approve.'),
      new UserError('timeout', 'The device code was not approved in time; sign-in cancelled.', 'Run the command again when you are ready to approve.'),
      new UserError('needs-reauth', "Sign-in for 'Rig' was revoked: re-authorize it in MCP Token Manager (tray → Re-authorize) or run `mcp-tokens link http://x/mcp`.", 'Revoked by you.'),
      new UserError('authorization', 'The authorization server https://as.example does not offer the device flow.', 'Use --flow browser.'),
      new UserError('registration', 'The authorization server refused to register this app: invalid_client_metadata.', 'If the server requires a pre-registered client, pass --client-id (and --client-secret-file).'),
      new UserError('not-found', 'No linked server "x".', 'Link one with `mcp-tokens link <url>`.'),
      new UserError('denied', 'Linking http://x/mcp was declined in MCP Token Manager.', 'Approve it in the app, or run `mcp-tokens link <url>`.'),
    ];
    for (const c of cases) {
      const e = toApiError(c);
      expect(`${e.message} ${e.hint ?? ''}`, c.message).not.toMatch(CLI_WORDS);
      expect(e.message.length).toBeGreaterThan(10);
    }
    expect(uiError({ code: 'needs-reauth', message: "Sign-in for 'Rig' was revoked: re-authorize it…" }).message).toBe('Sign-in for “Rig” was signed out.');
  });

  it('tells nothing listening, no answer and an unknown name apart, the technical text folded', () => {
    const refused = toApiError(new UserError('network', 'Could not reach 127.0.0.1:9/mcp (ECONNREFUSED).', 'Check the URL and that the server is up, then try again.'));
    expect(refused.message).toBe('Nothing is listening at 127.0.0.1:9: the server is not running there, or the address or port is wrong.');
    expect(refused.detail).toContain('ECONNREFUSED');
    const unknown = toApiError(new UserError('network', 'Could not find mcp.nowhere.example (ENOTFOUND). Check the URL; behind a company proxy, set HTTPS_PROXY.'));
    expect(unknown.message).toBe('No server is known by the name mcp.nowhere.example.');
    expect(unknown.hint).toMatch(/spelling/);
    const slow = toApiError(new UserError('timeout', 'No answer from 10.0.0.1:8443/mcp within 10 s.', 'Check the URL and that the server is up.'));
    expect(slow.message).toBe('No answer from 10.0.0.1:8443 in time.');
    expect(new Set([refused.message, unknown.message, slow.message]).size).toBe(3);
    // A network failure it cannot name more precisely keeps its own words.
    expect(toApiError(new UserError('network', 'The proxy refused the connection (407).', 'Set the proxy credentials.')).message).toBe('The proxy refused the connection (407).');
  });

  it('takes the terminal shortcuts out of progress lines and puts a long address on its own', () => {
    expect(uiProgressLine('Waiting for you to approve in the browser… (Ctrl-C to cancel, times out in 5 min)')).toBe('Waiting for you to approve in the browser… (this stops by itself after 5 min)');
    const url = `http://127.0.0.1:1/auth?${'x'.repeat(300)}`;
    const line = uiProgressLine(`Opening your browser at 127.0.0.1:1/auth… (if nothing opens, visit:\n  ${url} )`);
    expect(line).toBe(`Opening your browser at 127.0.0.1:1/auth… If nothing opens, use this address: ${url}`);
    expect(line).not.toMatch(CLI_WORDS);
  });
});

describe('settings of mcp-tokens ui', () => {
  it('persist in the data dir across restarts, and an unreadable file is kept aside', async () => {
    const home = await mkdtemp(join(tmpdir(), 'mt-settings-'));
    try {
      const a = fileSettings(home);
      expect(await a.get()).toEqual(DEFAULT_SETTINGS);
      await a.set({ refreshAheadMinutes: 12 });
      await a.set({ notifyOnReauth: false });
      const b = fileSettings(home);
      expect(await b.get()).toEqual({ ...DEFAULT_SETTINGS, refreshAheadMinutes: 12, notifyOnReauth: false });
      expect(JSON.parse(await readFile(join(home, UI_SETTINGS_FILE), 'utf8'))).toMatchObject({ refreshAheadMinutes: 12 });
      await writeFile(join(home, UI_SETTINGS_FILE), '{ not json');
      const c = fileSettings(home);
      expect(await c.get()).toEqual(DEFAULT_SETTINGS);
      const { readdir } = await import('node:fs/promises');
      expect((await readdir(home)).some((f) => f.startsWith(`${UI_SETTINGS_FILE}.unreadable-`))).toBe(true);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
