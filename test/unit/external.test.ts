import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src-main/core/platform/errors.js';
import { checkedOpener, checkExternalUrl, linkUrlFromArgv, redirectPageHtml, redirectPagesDir } from '../../src-main/core/platform/opener.js';
import { externalOpener } from '../../src-main/electron/open-external.js';

function refusal(raw: string): UserError {
  try {
    checkExternalUrl(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('unsafe-url');
    return err as UserError;
  }
  throw new Error(`expected ${raw} to be refused`);
}

describe('checkExternalUrl', () => {
  it('allows https anywhere', () => {
    expect(checkExternalUrl('https://github.com/login/oauth/authorize?client_id=x&state=y').host).toBe('github.com');
    expect(checkExternalUrl('HTTPS://Example.COM/a').href).toBe('https://example.com/a');
  });

  it('allows http only to this machine', () => {
    expect(checkExternalUrl('http://127.0.0.1:8080/cb').port).toBe('8080');
    expect(checkExternalUrl('http://127.45.6.7/').hostname).toBe('127.45.6.7');
    expect(checkExternalUrl('http://localhost:3000/').hostname).toBe('localhost');
    expect(checkExternalUrl('http://[::1]:9/x').hostname).toBe('[::1]');
    expect(refusal('http://example.com/').message).toMatch(/plain http to a remote host/);
    refusal('http://10.0.0.1/');
    refusal('http://127.0.0.1.evil.example/');
    refusal('http://[::2]/');
  });

  it('refuses every other scheme the OS would happily launch', () => {
    for (const raw of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'smb://host/share', 'ms-settings:', 'vscode://x', 'ftp://x.example/', 'mailto:a@b.example']) {
      expect(refusal(raw).message).toMatch(/scheme/);
    }
  });

  it('refuses credentials in the URL', () => {
    expect(refusal('https://user:pass@example.com/').message).toMatch(/user name or password/);
    refusal('https://user@example.com/');
    refusal('http://a:b@127.0.0.1/');
  });

  it('refuses junk, spaces, control characters and absurd lengths', () => {
    expect(refusal('not a url').message).toMatch(/spaces or control/);
    refusal('https://example.com/\nx');
    refusal(' https://example.com/');
    refusal('https://exa\tmple.com/');
    refusal('');
    expect(refusal(`https://example.com/${'a'.repeat(3000)}`).message).toMatch(/longer than/);
    refusal('https://');
  });
});

describe('linkUrlFromArgv', () => {
  it('finds the server URL among Electron and Chromium arguments', () => {
    expect(linkUrlFromArgv(['/opt/MCP Token Manager/mcp-token-manager', '--original-process-start-time=1', 'https://mcp.example.com/mcp'])).toBe('https://mcp.example.com/mcp');
    expect(linkUrlFromArgv(['app', 'http://localhost:3000/mcp'])).toBe('http://localhost:3000/mcp');
  });
  it('ignores switches, files and URLs the policy refuses', () => {
    expect(linkUrlFromArgv(['app', '--hidden', '/home/me/file.txt', 'file:///etc/passwd'])).toBeUndefined();
    expect(linkUrlFromArgv(['app', 'http://evil.example/', 'https://a:b@x.example/', 'https://ok.example/'])).toBe('https://ok.example/');
    expect(linkUrlFromArgv([])).toBeUndefined();
  });
});

describe('externalOpener (the openExternal wrapper)', () => {
  it('passes checked URLs to the shell and refuses the rest without calling it', async () => {
    const opened: string[] = [];
    const logged: string[] = [];
    const opener = externalOpener(
      async (u) => {
        opened.push(u);
      },
      { log: (_l, m) => logged.push(m) },
    );
    await opener.open('https://as.example/authorize?code_challenge=abc&state=s3cret');
    expect(opened).toEqual(['https://as.example/authorize?code_challenge=abc&state=s3cret']);
    // The log names the address without its query.
    expect(logged.join('\n')).not.toContain('s3cret');
    await expect(opener.open('file:///etc/passwd')).rejects.toThrow(/scheme/);
    await expect(opener.open('http://evil.example/')).rejects.toBeInstanceOf(UserError);
    expect(opened).toHaveLength(1);
  });
});

describe('links to this machine go through a private redirect page', () => {
  it('the launcher gets a file:// page (0600 in a 0700 dir) that leads to the link; the link never reaches it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'mcp-tokens-opener-'));
    try {
      const dir = redirectPagesDir(home);
      const opened: string[] = [];
      const opener = checkedOpener(async (u) => void opened.push(u), { pagesDir: dir });
      const link = 'http://127.0.0.1:4567/start/Zm9vYmFyLW5vbmNlLXNlY3JldA';
      await opener.open(link);
      expect(opened).toHaveLength(1);
      expect(opened[0]).toMatch(/^file:\/\/\/.*\/open-[0-9a-f]+\.html$/);
      expect(opened[0]).not.toContain('Zm9vYmFy');
      const page = fileURLToPath(opened[0]!);
      expect((await stat(page)).mode & 0o777).toBe(0o600);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const html = await readFile(page, 'utf8');
      expect(html).toContain(`<meta http-equiv="refresh" content="0;url=${link}">`);
      // Remote links are opened as they are.
      await opener.open('https://as.example/authorize?x=1');
      expect(opened[1]).toBe('https://as.example/authorize?x=1');
      // Without a pages dir a loopback link is refused, never put on a command line.
      const bare = checkedOpener(async (u) => void opened.push(u));
      await expect(bare.open(link)).rejects.toBeInstanceOf(UserError);
      expect(opened).toHaveLength(2);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a page escapes the link for its attribute', () => {
    expect(redirectPageHtml('http://127.0.0.1:1/a?b=1&c="x"')).toContain('url=http://127.0.0.1:1/a?b=1&amp;c=&quot;x&quot;"');
  });
});
