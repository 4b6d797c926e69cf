// MCP clients people use, from npm at pinned versions (test/clients/package.json, installed once
// by test/global-setup.ts): for each, `mcp-tokens config <client> --write` writes the entry into
// an isolated HOME, the client's own command connects through the bridge (a list command that
// connects, or a headless run against a stand-in model API on 127.0.0.1 that calls the rig's
// `whoami`), and an mcp-remote entry in the client's format is migrated and then connects too.
// Gemini CLI, Qwen Code, opencode, Kilo: their `mcp list`; Codex: `codex exec` (Responses API
// stand-in); Continue and Cline: headless runs (Chat Completions stand-in). Copilot CLI only
// reads the entries (`copilot mcp get`): its list does not connect, and a headless run needs a
// GitHub sign-in and GitHub's own model service.
// No test reaches a real model API: the clients get no API key and a 127.0.0.1 base URL only.
// A client that is not installed is skipped with the reason in the test's name.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfigPath, type ClientKind } from '../../src-main/core/clients/index.js';
import { startRig, type Rig } from '../rig/index.js';
import { stopBroker } from './bridge-helpers.js';
import { clientPath, startDaemon } from './client-helpers.js';
import { BIN, ROOT, cliEnv, tempHome } from './cli-helpers.js';

const BINS = path.join(ROOT, 'test/clients/node_modules/.bin');
const bin = (name: string) => path.join(BINS, name);
const installed = (name: string) => existsSync(bin(name));
const skipReason = (name: string) => (installed(name) ? '' : ` — SKIPPED: ${name} is not installed here (npm install --no-save --prefix test/clients)`);

let rig: Rig;
let home: string;
let project: string;
let env: NodeJS.ProcessEnv;
let serverId = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], e: NodeJS.ProcessEnv, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    // No stdin (Codex would wait for more of the prompt on it), no shell.
    const child = spawn(command, args, { env: e, cwd: opts.cwd ?? project, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Colours off: some clients colour their lists whatever NO_COLOR says.
      resolve({ code, stdout: stripVTControlCharacters(stdout), stderr: stripVTControlCharacters(stderr) });
    });
  });
}

/** The env a person's shell gives the client: HOME and PATH, no API keys, nothing of the test's. */
function clientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: clientPath(), HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), NO_COLOR: '1', TERM: 'dumb', ...extra };
}

const mcpTokens = (args: string[]) => run(process.execPath, [BIN, ...args], env);

async function configWrite(kind: ClientKind): Promise<{ file: string; name: string; action: string }> {
  const r = await mcpTokens(['config', kind, serverId, '--write', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { file: string; name: string; action: string };
}

async function migrate(): Promise<{ applied: { files: Array<{ path: string; replaced: string[]; error?: string }> } }> {
  const r = await mcpTokens(['migrate', '--write', '--json']);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as { applied: { files: Array<{ path: string; replaced: string[]; error?: string }> } };
}

/** An mcp-remote entry as people have them (npx, the server URL); the rig is on 127.0.0.1, which mcp-remote allows over http. */
const mcpRemoteArgs = () => ['-y', 'mcp-remote', rig.mcpUrl];

async function editJson(file: string, edit: (v: Record<string, Record<string, unknown>>) => void): Promise<void> {
  const v = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
  edit(v);
  await writeFile(file, JSON.stringify(v, null, 2));
}

beforeAll(async () => {
  rig = await startRig('own-as');
  home = await tempHome();
  project = path.join(home, 'project');
  await mkdir(project, { recursive: true });
  env = cliEnv(home, { XDG_CONFIG_HOME: path.join(home, '.config') });
  const r = await run(process.execPath, [BIN, 'link', rig.mcpUrl, '--name', 'rig', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  serverId = (JSON.parse(r.stdout) as { id: string }).id;
  await startDaemon(env, home);
}, 400_000);

afterAll(async () => {
  if (home) await stopBroker(home);
  await rig?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('MCP clients from npm, through entries mcp-tokens wrote', () => {
  it.skipIf(!installed('gemini'))(`Gemini CLI: \`gemini mcp list\` connects once the folder is trusted; an mcp-remote entry is migrated and connects; its own rewrites do not make a second --write change anything${skipReason('gemini')}`, async () => {
    const w = await configWrite('gemini-cli');
    expect(w.file).toBe(defaultConfigPath('gemini-cli', { HOME: home }, 'linux'));
    // Untrusted folder: Gemini CLI shows the server disabled, which is what `config` told the person.
    const untrusted = await run(bin('gemini'), ['mcp', 'list'], clientEnv());
    expect(`${untrusted.stdout}${untrusted.stderr}`).toMatch(new RegExp(`${w.name}.*Disabled`));
    // The person trusts the project folder, as Gemini CLI asks them to.
    await writeFile(path.join(home, '.gemini', 'trustedFolders.json'), JSON.stringify({ [project]: 'TRUST_FOLDER' }));
    const list = await run(bin('gemini'), ['mcp', 'list'], clientEnv());
    expect(`${list.stdout}${list.stderr}`, list.stderr).toMatch(new RegExp(`✓ ${w.name}: .*Connected`));

    const after = await readFile(w.file, 'utf8');
    expect((await configWrite('gemini-cli')).action).toBe('unchanged');
    expect(await readFile(w.file, 'utf8')).toBe(after);

    await editJson(w.file, (v) => (v.mcpServers!.legacy = { command: 'npx', args: mcpRemoteArgs() }));
    const m = await migrate();
    expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
    const again = await run(bin('gemini'), ['mcp', 'list'], clientEnv());
    expect(`${again.stdout}${again.stderr}`).toMatch(/✓ legacy: .*Connected/);
    expect(`${again.stdout}${again.stderr}`).toMatch(new RegExp(`✓ ${w.name}: .*Connected`));
  }, 300_000);

  it.skipIf(!installed('qwen'))(`Qwen Code: \`qwen mcp list\` connects; a headless run is offered the tool directly (not behind its tool search) and calls it through the bridge; an mcp-remote entry is migrated and connects${skipReason('qwen')}`, async () => {
    const w = await configWrite('qwen-code');
    const entry = (JSON.parse(await readFile(w.file, 'utf8')) as { mcpServers: Record<string, Record<string, unknown>> }).mcpServers[w.name]!;
    expect(entry.alwaysLoadTools).toBe(true);
    const list = await run(bin('qwen'), ['mcp', 'list'], clientEnv());
    expect(`${list.stdout}${list.stderr}`, list.stderr).toMatch(new RegExp(`✓ ${w.name}: .*Connected`));

    // The same bridge in an entry without alwaysLoadTools, as a person would write it by hand: Qwen Code hides that one.
    await editJson(w.file, (v) => (v.mcpServers!.hidden = { command: entry.command, args: entry.args, ...(entry.env ? { env: entry.env } : {}) }));
    const model = await standInChat();
    try {
      model.tool = new RegExp(`^mcp__${w.name}__whoami$`);
      const r = await run(bin('qwen'), ['-p', 'call whoami', '--auth-type', 'openai', '--yolo'], clientEnv({ OPENAI_API_KEY: 'not-a-key', OPENAI_BASE_URL: model.url, OPENAI_MODEL: 'gpt-4o' }));
      expect(model.toolsSeen, `${r.stdout}\n${r.stderr}`).toContain(`mcp__${w.name}__whoami`);
      expect(model.toolsSeen).not.toContain('mcp__hidden__whoami');
      expect(model.outputs.at(-1)).toMatch(/\\?"sub\\?":\s*\\?"alice/);
    } finally {
      await model.close();
    }
    await editJson(w.file, (v) => delete v.mcpServers!.hidden);

    await editJson(w.file, (v) => (v.mcpServers!.legacy = { command: 'npx', args: mcpRemoteArgs() }));
    const m = await migrate();
    expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
    const again = await run(bin('qwen'), ['mcp', 'list'], clientEnv());
    expect(`${again.stdout}${again.stderr}`).toMatch(/✓ legacy: .*Connected/);
    expect((await configWrite('qwen-code')).action).toBe('unchanged');
  }, 300_000);

  it.skipIf(!installed('opencode'))(`opencode: \`opencode mcp list\` connects; an mcp-remote entry in its command-array shape is migrated and connects${skipReason('opencode')}`, async () => {
    const w = await configWrite('opencode');
    expect(w.file).toBe(path.join(home, '.config', 'opencode', 'opencode.json'));
    const list = await run(bin('opencode'), ['mcp', 'list'], clientEnv());
    expect(`${list.stdout}${list.stderr}`, list.stderr).toMatch(new RegExp(`✓ ${w.name}\\s+connected`));

    await editJson(w.file, (v) => (v.mcp!.legacy = { type: 'local', command: ['npx', ...mcpRemoteArgs()], enabled: true }));
    const m = await migrate();
    expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
    const again = await run(bin('opencode'), ['mcp', 'list'], clientEnv());
    expect(`${again.stdout}${again.stderr}`).toMatch(/✓ legacy\s+connected/);
    expect(`${again.stdout}${again.stderr}`).toMatch(new RegExp(`✓ ${w.name}\\s+connected`));
    expect((await configWrite('opencode')).action).toBe('unchanged');
  }, 300_000);

  it.skipIf(!installed('codex'))(`Codex: a headless \`codex exec\` against a stand-in model API calls whoami through the bridge; an mcp-remote [mcp_servers] table is migrated and its tool called too${skipReason('codex')}`, async () => {
    const model = await standInModel();
    try {
      // The person's own config.toml first: the model provider is the stand-in on 127.0.0.1.
      const file = defaultConfigPath('codex', { HOME: home }, 'linux');
      await mkdir(path.dirname(file), { recursive: true });
      const mine = `# mine\nmodel = "stand-in"\nmodel_provider = "standin"\n\n[model_providers.standin]\nname = "standin"\nbase_url = "${model.url}"\nwire_api = "responses"\n`;
      await writeFile(file, mine);
      const w = await configWrite('codex');
      const text = await readFile(w.file, 'utf8');
      expect(text.startsWith(mine)).toBe(true);

      const exec = (server: string) => {
        model.call = { namespace: `mcp__${server}`, name: 'whoami' };
        return run(bin('codex'), ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', `call whoami on ${server}`], clientEnv());
      };
      const r = await exec(w.name);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(model.toolsSeen).toContain(`mcp__${w.name}/whoami`);
      expect(model.outputs.at(-1)).toMatch(/"sub":\s*"alice"/);

      await writeFile(w.file, `${await readFile(w.file, 'utf8')}\n[mcp_servers.legacy]\ncommand = "npx"\nargs = ${JSON.stringify(mcpRemoteArgs())}\n`);
      const m = await migrate();
      expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
      const r2 = await exec('legacy');
      expect(r2.code, `${r2.stdout}\n${r2.stderr}`).toBe(0);
      expect(model.outputs.at(-1)).toMatch(/"sub":\s*"alice"/);
      expect((await readFile(w.file, 'utf8')).startsWith(mine)).toBe(true);
      expect((await configWrite('codex')).action).toBe('unchanged');
    } finally {
      await model.close();
    }
  }, 300_000);

  it.skipIf(!installed('kilo'))(`Kilo: \`kilo mcp list\` connects; Kilo rewrites its own file when it runs and a second --write then changes nothing; an mcp-remote entry is migrated and connects${skipReason('kilo')}`, async () => {
    const w = await configWrite('kilo');
    expect(w.file).toBe(path.join(home, '.config', 'kilo', 'kilo.json'));
    const list = await run(bin('kilo'), ['mcp', 'list'], clientEnv());
    expect(`${list.stdout}${list.stderr}`, list.stderr).toMatch(new RegExp(`✓ ${w.name}\\s+connected`));
    // Kilo saved its own version of the file (a $schema, its defaults); ours is still there as it was.
    const rewritten = await readFile(w.file, 'utf8');
    expect((await configWrite('kilo')).action).toBe('unchanged');
    expect(await readFile(w.file, 'utf8')).toBe(rewritten);

    await editJson(w.file, (v) => (v.mcp!.legacy = { type: 'local', command: ['npx', ...mcpRemoteArgs()], enabled: true }));
    const m = await migrate();
    expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
    const again = await run(bin('kilo'), ['mcp', 'list'], clientEnv());
    expect(`${again.stdout}${again.stderr}`).toMatch(/✓ legacy\s+connected/);
  }, 300_000);

  it.skipIf(!installed('cn'))(`Continue: a headless \`cn -p\` against a stand-in chat model calls whoami through the bridge; an mcp-remote item of its YAML list is migrated and its tool called${skipReason('cn')}`, async () => {
    const model = await standInChat();
    try {
      // The person's config.yaml: a model on the stand-in (127.0.0.1, a dummy key).
      const file = defaultConfigPath('continue', { HOME: home }, 'linux');
      await mkdir(path.dirname(file), { recursive: true });
      const mine = `name: Local Config\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: stand-in   # not a real model\n    provider: openai\n    model: gpt-4o\n    apiBase: ${model.url}\n    apiKey: not-a-key\n    roles: [chat]\n`;
      await writeFile(file, mine);
      const w = await configWrite('continue');
      expect((await readFile(w.file, 'utf8')).startsWith(mine)).toBe(true);
      const cn = () => run(bin('cn'), ['-p', 'call whoami', '--config', file, '--auto'], clientEnv());
      model.tool = /^whoami$/;
      const r = await cn();
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(model.outputs.at(-1)).toMatch(/\\?"sub\\?":\s*\\?"alice/);

      // An mcp-remote item in its list: migrated; then only it is left, so the call goes through it.
      await writeFile(file, `${await readFile(file, 'utf8')}  - name: legacy\n    command: npx\n    args: ${JSON.stringify(mcpRemoteArgs())}\n`);
      const m = await migrate();
      expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
      const text = await readFile(file, 'utf8');
      expect(text.startsWith(mine)).toBe(true);
      const doc = parseYaml(text) as { mcpServers: Array<{ name: string }> };
      await writeFile(file, stringifyYaml({ ...doc, mcpServers: doc.mcpServers.filter((x) => x.name === 'legacy') }));
      const before = model.outputs.length;
      const r2 = await cn();
      expect(r2.code, `${r2.stdout}\n${r2.stderr}`).toBe(0);
      expect(model.outputs.length).toBe(before + 1);
      expect(model.outputs.at(-1)).toMatch(/\\?"sub\\?":\s*\\?"alice/);
    } finally {
      await model.close();
    }
  }, 300_000);

  it.skipIf(!installed('cline'))(`Cline CLI: a headless run against a stand-in chat model calls whoami through the bridge; an mcp-remote entry is migrated and its tool called${skipReason('cline')}`, async () => {
    const model = await standInChat();
    try {
      const w = await configWrite('cline');
      expect(w.file).toBe(path.join(home, '.cline', 'data', 'settings', 'cline_mcp_settings.json'));
      // The person points Cline at the stand-in (an OpenAI-compatible provider on 127.0.0.1, a dummy key).
      const auth = await run(bin('cline'), ['auth', '-p', 'openai', '-k', 'not-a-key', '-m', 'gpt-4o', '-b', model.url], clientEnv());
      expect(auth.code, auth.stderr).toBe(0);
      const task = () => run(bin('cline'), ['--json', 'call whoami'], clientEnv());
      model.tool = new RegExp(`^${w.name}__whoami$`);
      const r = await task();
      expect(model.toolsSeen, `${r.stdout}\n${r.stderr}`).toContain(`${w.name}__whoami`);
      expect(model.outputs.at(-1)).toMatch(/\\?"sub\\?":\s*\\?"alice/);

      await editJson(w.file, (v) => (v.mcpServers!.legacy = { command: 'npx', args: mcpRemoteArgs(), disabled: false }));
      const m = await migrate();
      expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
      model.tool = /^legacy__whoami$/;
      const before = model.outputs.length;
      await task();
      expect(model.outputs.length).toBe(before + 1);
      expect(model.outputs.at(-1)).toMatch(/\\?"sub\\?":\s*\\?"alice/);
    } finally {
      // Cline runs its tasks in a hub daemon it starts itself; it would outlive the test.
      await run(bin('cline'), ['hub', 'stop'], clientEnv(), { timeoutMs: 60_000 });
      await model.close();
    }
  }, 300_000);

  it.skipIf(!installed('copilot'))(`Copilot CLI: \`copilot mcp get\` reads the entry as written (enabled, all tools) and the migrated one — its list does not connect, and a headless run needs a GitHub sign-in and GitHub's model service, which no test here may reach${skipReason('copilot')}`, async () => {
    const w = await configWrite('copilot-cli');
    const get = async (name: string) => {
      const r = await run(bin('copilot'), ['mcp', 'get', name], clientEnv());
      return `${r.stdout}${r.stderr}`;
    };
    const ours = await get(w.name);
    expect(ours).toMatch(/Status:\s*Enabled/);
    expect(ours).toMatch(/Type:\s*local/);
    expect(ours).toMatch(/Tools:\s*\* \(all\)/);
    expect(ours).toContain(`bridge ${serverId}`);

    await editJson(w.file, (v) => (v.mcpServers!.legacy = { type: 'local', command: 'npx', args: mcpRemoteArgs(), tools: ['*'] }));
    const m = await migrate();
    expect(m.applied.files.find((f) => f.path === w.file)?.replaced).toEqual(['legacy']);
    const legacy = await get('legacy');
    expect(legacy).toMatch(/Status:\s*Enabled/);
    expect(legacy).toContain(`bridge ${rig.mcpUrl}`);
    expect((await configWrite('copilot-cli')).action).toBe('unchanged');
  }, 300_000);
});

// ------------------------------------------------------------------ a stand-in model API

interface StandIn {
  url: string;
  /** The tool the "model" calls on a turn without a tool result. */
  call: { namespace: string; name: string };
  /** `namespace/name` of every MCP tool offered to the model. */
  toolsSeen: string[];
  /** The text of each tool result sent back. */
  outputs: string[];
  close(): Promise<void>;
}

/**
 * The OpenAI Responses API as Codex uses it, reduced to what a turn needs: the first request
 * gets a function call to `call`, the one carrying its result gets a short answer.
 */
async function standInModel(): Promise<StandIn> {
  const state: StandIn = { url: '', call: { namespace: '', name: '' }, toolsSeen: [], outputs: [], close: async () => {} };
  let n = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/responses')) {
        res.writeHead(404).end();
        return;
      }
      const j = JSON.parse(body) as { tools?: Array<{ type: string; name: string; tools?: Array<{ name: string }> }>; input?: Array<{ type: string; output?: unknown }> };
      for (const t of j.tools ?? []) if (t.type === 'namespace') for (const x of t.tools ?? []) state.toolsSeen.push(`${t.name}/${x.name}`);
      const result = (j.input ?? []).filter((i) => i.type === 'function_call_output').at(-1);
      n++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const ev = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      ev('response.created', { response: { id: `r${n}` } });
      if (result === undefined) {
        ev('response.output_item.done', { item: { type: 'function_call', name: state.call.name, namespace: state.call.namespace, arguments: '{}', call_id: `c${n}` } });
      } else {
        const out = result.output;
        state.outputs.push(Array.isArray(out) ? out.map((x: { text?: string }) => x.text ?? '').join('\n') : String(out));
        ev('response.output_item.done', { item: { type: 'message', role: 'assistant', id: `m${n}`, content: [{ type: 'output_text', text: 'done' }] } });
      }
      ev('response.completed', { response: { id: `r${n}`, usage: { input_tokens: 1, input_tokens_details: null, output_tokens: 1, output_tokens_details: null, total_tokens: 2 } } });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

interface ChatStandIn {
  url: string;
  /** The tool the "model" calls (matched against the offered names) on a turn without a tool result. */
  tool: RegExp;
  toolsSeen: string[];
  /** The content of each tool result sent back. */
  outputs: string[];
  close(): Promise<void>;
}

/** The OpenAI Chat Completions API (streamed or not), reduced to one tool call and a short answer. */
async function standInChat(): Promise<ChatStandIn> {
  const state: ChatStandIn = { url: '', tool: /^$/, toolsSeen: [], outputs: [], close: async () => {} };
  let n = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      n++;
      const j = JSON.parse(body) as { model?: string; stream?: boolean; tools?: Array<{ function?: { name?: string } }>; messages?: Array<{ role: string; content?: unknown }> };
      const names = (j.tools ?? []).map((t) => t.function?.name ?? '');
      state.toolsSeen.push(...names);
      const result = (j.messages ?? []).filter((m) => m.role === 'tool').at(-1);
      const name = names.find((x) => state.tool.test(x));
      const call = result === undefined && name !== undefined;
      if (result !== undefined) state.outputs.push(typeof result.content === 'string' ? result.content : JSON.stringify(result.content));
      const delta = call ? { role: 'assistant', tool_calls: [{ index: 0, id: `call_${n}`, type: 'function', function: { name, arguments: '{}' } }] } : { role: 'assistant', content: 'done' };
      const finish = call ? 'tool_calls' : 'stop';
      if (j.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (d: object, f: string | null) => res.write(`data: ${JSON.stringify({ id: `c${n}`, object: 'chat.completion.chunk', created: 1, model: j.model, choices: [{ index: 0, delta: d, finish_reason: f }] })}\n\n`);
        chunk(delta, null);
        chunk({}, finish);
        res.end('data: [DONE]\n\n');
        return;
      }
      const message = call ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${n}`, type: 'function', function: { name, arguments: '{}' } }] } : delta;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `c${n}`, object: 'chat.completion', created: 1, model: j.model, choices: [{ index: 0, message, finish_reason: finish }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
