// MCP clients that are not our code, through an entry `config --write` wrote: the MCP Python
// SDK's stdio client (mcp==2.3.0 from PyPI, in the rig's test/.venv) and the MCP Inspector's
// CLI mode (npm, installed in test/clients by `npm ci --prefix test/clients`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from '../rig/index.js';
import { ensureVenv } from '../rig/third-party/index.js';
import { stopBroker } from './bridge-helpers.js';
import { clientPath, entryIn, startDaemon, type Entry } from './client-helpers.js';
import { ROOT, cliEnv, runCli, tempHome } from './cli-helpers.js';

const run = promisify(execFile);
const PY_CLIENT = path.join(ROOT, 'test/clients/python_client.py');
const INSPECTOR = path.join(ROOT, 'test/clients/node_modules/@modelcontextprotocol/inspector/cli/build/cli.js');
let claudeFile = '';
let entryName = '';

let rig: Rig;
let home: string;
let entry: Entry;
let python: string;

beforeAll(async () => {
  // test/.venv, shared with the third-party servers' rig (its requirements pin mcp==2.3.0).
  [rig, python] = await Promise.all([startRig('own-as'), ensureVenv()]);
  home = await tempHome();
  const env = cliEnv(home);
  const r = await runCli(['link', rig.mcpUrl, '--name', 'rig', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  const id = (JSON.parse(r.stdout) as { id: string }).id;
  const w = await runCli(['config', 'claude', id, '--write', '--json'], env);
  expect(w.code, w.stderr).toBe(0);
  ({ file: claudeFile, name: entryName } = JSON.parse(w.stdout) as { file: string; name: string });
  entry = await entryIn('claude', home, entryName);
  await startDaemon(env, home);
}, 400_000);

afterAll(async () => {
  if (home) await stopBroker(home);
  await rig?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('MCP clients that are not ours, through the bridge', () => {
  it('the MCP Python SDK’s stdio client lists and calls tools', async () => {
    const spec = path.join(home, 'python-client.json');
    await writeFile(spec, JSON.stringify({ command: entry.command, args: entry.args, env: { ...entry.env, PATH: clientPath(), HOME: home }, cwd: '/', tool: 'whoami' }));
    const r = await run(python, [PY_CLIENT, spec], { cwd: '/', env: { PATH: clientPath(), HOME: home }, timeout: 120_000 });
    const out = JSON.parse(r.stdout) as { tools: string[]; text: string; isError: boolean };
    expect(out.tools).toContain('whoami');
    expect(out.isError).toBe(false);
    expect(JSON.parse(out.text)).toMatchObject({ sub: 'alice' });
  });

  it('the MCP Inspector’s CLI mode lists and calls tools', async () => {
    expect(existsSync(INSPECTOR), 'the MCP Inspector is not installed: run `npm ci --prefix test/clients`').toBe(true);
    // It reads the entry from the Claude Desktop file itself (--config/--server).
    const inspector = (...method: string[]) =>
      run(process.execPath, [INSPECTOR, '--cli', '--config', claudeFile, '--server', entryName, ...method], { cwd: '/', env: { PATH: clientPath(), HOME: home }, timeout: 120_000 });
    const list = JSON.parse((await inspector('--method', 'tools/list')).stdout) as { tools: Array<{ name: string }> };
    expect(list.tools.map((t) => t.name)).toContain('whoami');
    const call = JSON.parse((await inspector('--method', 'tools/call', '--tool-name', 'whoami')).stdout) as { content: Array<{ type: string; text: string }> };
    expect(JSON.parse(call.content.map((c) => c.text).join(''))).toMatchObject({ sub: 'alice' });
  });
});
