// First use of `bridge <url>` inside a client with a connect timeout: initialize is answered at
// once while the sign-in waits for the person; a call before approval fails with a clear error;
// after approval the same session carries on, told that the tool list changed. A bridge that
// cannot sign in answers initialize and gives the reason on the next request.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startRig, type Rig } from '../rig/index.js';
import { openBridge, stopBroker, textOf, waitFor } from './bridge-helpers.js';
import { cliEnv, ROOT, tempHome } from './cli-helpers.js';

const { approve } = (await import(path.join(ROOT, 'test/rig/person.mjs'))) as { approve: (url: string) => Promise<{ url: string; status: number }> };

const rigs: Rig[] = [];
const homes: string[] = [];
afterEach(async () => {
  for (const h of homes.splice(0)) {
    await stopBroker(h);
    await rm(h, { recursive: true, force: true });
  }
});
afterAll(async () => {
  await Promise.all(rigs.map((r) => r.close()));
});

/** A "browser" that only writes down what it was asked to open: the test plays the person later. */
async function recordingBrowser(home: string): Promise<{ browser: string; urls: () => Promise<string[]> }> {
  const log = path.join(home, 'opened.txt');
  const script = path.join(home, 'record-url.mjs');
  await writeFile(script, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, process.argv[2] + '\\n');\n`);
  return {
    browser: `"${process.execPath}" "${script}"`,
    urls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}

describe('first use of a server that is not linked yet', () => {
  it('answers initialize while the approval is pending, fails a call with a clear error, and carries on after approval', async () => {
    const rig = await startRig('own-as');
    rigs.push(rig);
    const home = await tempHome();
    homes.push(home);
    const rec = await recordingBrowser(home);
    const env = cliEnv(home, { BROWSER: rec.browser, MCP_TOKENS_REQUEST_TIMEOUT: '2', MCP_TOKENS_DAEMON_IDLE: '5' });

    const b = await openBridge(env, rig.mcpUrl);
    try {
      // initialize came back, and nobody has approved anything yet.
      expect(b.client.getServerCapabilities()?.tools?.listChanged).toBe(true);
      expect(rig.as.issuedAccessTokens).toEqual([]);
      expect((await b.client.listTools()).tools).toEqual([]);
      let changed = 0;
      b.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => void changed++);

      await expect(b.client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(/approve the sign-in in your browser.*then retry/);
      expect(rig.as.issuedAccessTokens).toEqual([]);

      await waitFor(async () => (await rec.urls()).length > 0, 30_000, 'the sign-in to be opened in the browser');
      const [url] = await rec.urls();
      await approve(url!);
      await waitFor(() => changed > 0, 30_000, 'notifications/tools/list_changed');

      // Same session, no reconnect.
      expect((await b.client.listTools()).tools.map((t) => t.name)).toContain('whoami');
      expect(JSON.parse(textOf(await b.client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({ sub: 'alice' });
      expect(changed).toBe(1);
      expect(await rec.urls()).toHaveLength(1);
    } finally {
      await b.close();
    }
  });

  it('a bridge that cannot sign in answers initialize and returns the reason on the next request', async () => {
    const rig = await startRig('own-as');
    rigs.push(rig);
    await rig.as.setDown(true);
    const home = await tempHome();
    homes.push(home);
    const env = cliEnv(home, { MCP_TOKENS_DAEMON_IDLE: '5' });
    const b = await openBridge(env, rig.mcpUrl);
    try {
      const err = await b.client.callTool({ name: 'whoami', arguments: {} }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/Sign-in to '127\.0\.0\.1:\d+' did not complete: .+/);
      // Every later request gets it too, and the session stays up.
      await expect(b.client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(err!.message.replace(/^MCP error -?\d+: /, ''));
      await b.client.ping();
    } finally {
      await b.close();
    }

    const c = await openBridge(env, 'no-such-server');
    try {
      await expect(c.client.listTools()).rejects.toThrow(/No linked server "no-such-server"/);
    } finally {
      await c.close();
    }
  });
});
