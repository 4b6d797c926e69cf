// The client under test for the MCP conformance suite (`conformance client --command ...`).
// It uses mcp-tokens exactly as a person would: `mcp-tokens link <url> --json` with the
// browser played by browser.mjs, then `mcp-tokens bridge <id>` launched by the SDK's
// StdioClientTransport (as Claude Desktop does), and a whole session through it. The
// scenario's context (MCP_CONFORMANCE_CONTEXT) is mapped onto the real CLI options; the
// product gets no test-only switch. Exit 0 only when the session completed.
//
// Run with the system Node and the root tsx (for the TypeScript test helpers it reuses):
//   node --import tsx test/conformance/client.mjs <url>
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { isAlive, stopBroker } from '../integration/bridge-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/mcp-tokens.js');
const BROWSER = join(import.meta.dirname, 'browser.mjs');

/**
 * The client metadata document URL the suite's CIMD scenarios accept as this app's published
 * document (it plays the role of the URL a release of the app would publish). mcp-tokens uses
 * it only where the authorization server advertises client_id_metadata_document_supported.
 */
const SUITE_CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

/** The whole run must end before the suite's own timeout (run.mjs gives it 60 s). */
const BUDGET_MS = Number(process.env.CONFORMANCE_CLIENT_BUDGET_MS ?? 50_000);
const REQUEST_TIMEOUT_MS = 20_000;

/**
 * @typedef {{ name: string, arguments?: Record<string, unknown> }} ToolCall
 * @typedef {{ name?: string, client_id?: string, client_secret?: string, client_metadata_url?: string, toolCalls?: ToolCall[] }} Context
 */

const started = Date.now();
const remaining = () => Math.max(1000, BUDGET_MS - (Date.now() - started));

function say(line) {
  process.stderr.write(`[client] ${line}\n`);
}

/** @returns {Context} */
function parseContext() {
  const raw = process.env.MCP_CONFORMANCE_CONTEXT;
  if (!raw) return {};
  try {
    const v = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    throw new Error('MCP_CONFORMANCE_CONTEXT is not JSON');
  }
}

/** Runs `mcp-tokens args...`, echoing its stderr; bounded in time. */
function run(args, env, timeoutMs) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => {
      stderr += c;
      process.stderr.write(c);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** A plausible value for a JSON Schema, for the tools whose arguments the scenario does not give. */
function sampleFor(schema, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 4) return null;
  const s = /** @type {Record<string, unknown>} */ (schema);
  if ('default' in s) return s.default;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return typeof s.pattern === 'string' && /a-z/.test(s.pattern) ? 'abc' : 'us-west1';
    case 'integer':
      return 2;
    case 'number':
      return 3;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return argumentsFor(s, depth + 1);
    default:
      return 'x';
  }
}

function argumentsFor(schema, depth = 0) {
  const s = schema ?? {};
  const out = {};
  const required = Array.isArray(s.required) ? s.required : [];
  for (const key of required) out[key] = sampleFor(s.properties?.[key], depth);
  return out;
}

/** Accepts an elicitation with every default the schema gives (SEP-1034) and plausible values otherwise. */
function elicitationAnswer(requested) {
  const props = requested?.properties ?? {};
  const out = {};
  for (const [k, p] of Object.entries(props)) {
    const v = sampleFor(p);
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * What "the scenario's tool calls" are: given by the context, else chosen from tools/list.
 * @returns {ToolCall[]}
 */
function plannedCalls(scenario, ctx, tools) {
  if (ctx.toolCalls?.length) return ctx.toolCalls;
  const byName = (n) => tools.find((t) => t.name === n);
  if (scenario === 'json-schema-2020-12-preservation') {
    const echo = byName('json_schema_echo');
    const focal = tools.find((t) => t.name !== 'json_schema_echo');
    return echo && focal ? [{ name: echo.name, arguments: { schema: focal.inputSchema } }] : [];
  }
  if (scenario === 'json-schema-ref-no-deref') return []; // listing is the exercise; the tool has no handler
  // Scenarios whose server exposes several tools to be exercised in turn.
  if (scenario === 'sep-2322-client-request-state' || scenario === 'http-standard-headers' || scenario === 'http-invalid-tool-headers') {
    return tools.map((t) => ({ name: t.name, arguments: argumentsFor(t.inputSchema) }));
  }
  const first = byName('test-tool') ?? tools[0];
  return first ? [{ name: first.name, arguments: argumentsFor(first.inputSchema) }] : [];
}

async function session(scenario, ctx, env, target) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'bridge', target], env, stderr: 'inherit' });
  const client = new Client({ name: 'mcp-tokens-conformance', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => ({ action: 'accept', content: elicitationAnswer(req.params.requestedSchema) }));
  const opts = () => ({ timeout: Math.min(REQUEST_TIMEOUT_MS, remaining()) });
  try {
    await client.connect(transport, opts());
    say(`initialized; server ${JSON.stringify(client.getServerVersion() ?? {})}`);
    const { tools } = await client.listTools(undefined, opts());
    say(`tools/list: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
    for (const call of plannedCalls(scenario, ctx, tools)) {
      const r = await client.callTool({ name: call.name, arguments: call.arguments ?? {} }, undefined, opts());
      if (r.isError) throw new Error(`tool ${call.name} returned an error: ${JSON.stringify(r.content).slice(0, 300)}`);
      say(`tools/call ${call.name}: ok`);
    }
    const caps = client.getServerCapabilities() ?? {};
    if (scenario === 'http-standard-headers') {
      // Exercise every method whose standard headers the scenario checks.
      if (caps.resources) {
        const { resources } = await client.listResources(undefined, opts());
        for (const r of resources) await client.readResource({ uri: r.uri }, opts());
      }
      if (caps.prompts) {
        const { prompts } = await client.listPrompts(undefined, opts());
        for (const p of prompts) await client.getPrompt({ name: p.name }, opts());
      }
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/** Writes a secret the scenario hands over into a 0600 file, as a person or a platform would. */
async function secretFile(home, name, value) {
  const f = join(home, name);
  await writeFile(f, `${value}\n`, { mode: 0o600 });
  await chmod(f, 0o600);
  return f;
}

/** Scenarios of grants no person approves (issue 25): their context maps onto `link --grant/--idp`. */
const GRANT_SCENARIOS = new Set(['auth/client-credentials-basic', 'auth/client-credentials-jwt', 'auth/wif-jwt-bearer', 'auth/enterprise-managed-authorization']);

/** The `link` options for a grant scenario (and, for SEP-990, the `idp add` it needs first). */
async function grantLinkArgs(scenario, ctx, env, home) {
  switch (scenario) {
    case 'auth/client-credentials-basic':
      return ['--grant', 'client-credentials', '--client-id', ctx.client_id, '--client-secret-file', await secretFile(home, 'client-secret', ctx.client_secret)];
    case 'auth/client-credentials-jwt':
      return ['--grant', 'client-credentials', '--client-id', ctx.client_id, '--client-key-file', await secretFile(home, 'client-key.pem', ctx.private_key_pem)];
    case 'auth/wif-jwt-bearer':
      // The platform's workload token (valid_jwt); the wrong-audience and expired ones are not used.
      return ['--grant', 'jwt-bearer', '--assertion-file', await secretFile(home, 'workload.jwt', ctx.valid_jwt), ...(ctx.client_id ? ['--client-id', ctx.client_id] : [])];
    case 'auth/enterprise-managed-authorization': {
      const add = ['idp', 'add', 'conformance-idp', '--json', '--issuer', ctx.idp_issuer, '--client-id', ctx.idp_client_id, '--id-token-file', await secretFile(home, 'id-token.jwt', ctx.idp_id_token)];
      if (ctx.idp_token_endpoint) add.push('--token-endpoint', ctx.idp_token_endpoint);
      say(`mcp-tokens ${add.join(' ')}`);
      const r = await run(add, env, remaining());
      if (r.code !== 0) throw new Error(`idp add failed (exit ${r.code})`);
      return ['--idp', 'conformance-idp', '--client-id', ctx.client_id, '--client-secret-file', await secretFile(home, 'client-secret', ctx.client_secret)];
    }
  }
  return undefined;
}

async function main() {
  const url = process.argv[process.argv.length - 1];
  if (!url || !/^https?:\/\//.test(url)) {
    say('usage: client.mjs <server-url>');
    return 2;
  }
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const ctx = parseContext();
  const home = await mkdtemp(join(tmpdir(), 'mcp-tokens-conformance-'));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    MCP_TOKENS_HOME: home,
    MCP_TOKENS_KEYRING: 'off',
    BROWSER: `"${process.execPath}" "${BROWSER}"`,
    // The broker the bridge starts exits soon after the last bridge; stopBroker ends it anyway.
    MCP_TOKENS_DAEMON_IDLE: '10',
  };
  let brokerPid;
  try {
    let target = url;
    const grant = GRANT_SCENARIOS.has(scenario) ? await grantLinkArgs(scenario, ctx, env, home) : undefined;
    if (grant) {
      const args = ['link', url, '--json', ...grant];
      say(`mcp-tokens ${args.join(' ')}`);
      const r = await run(args, env, remaining());
      if (r.code !== 0) {
        say(`link failed (exit ${r.code})`);
        return 1;
      }
      const linked = JSON.parse(r.stdout);
      say(`linked as ${linked.id} with ${linked.grant?.label} (scopes: ${linked.scopes.join(' ') || 'none'})`);
      target = linked.id;
    } else if (scenario.startsWith('auth/')) {
      const args = ['link', url, '--json', '--timeout', String(Math.ceil(Math.min(30_000, remaining()) / 1000))];
      if (ctx.client_id) args.push('--client-id', ctx.client_id);
      if (ctx.client_secret) {
        const f = join(home, 'client-secret');
        await writeFile(f, `${ctx.client_secret}\n`, { mode: 0o600 });
        await chmod(f, 0o600);
        args.push('--client-secret-file', f);
      }
      args.push('--client-metadata-url', ctx.client_metadata_url ?? SUITE_CLIENT_METADATA_URL);
      say(`mcp-tokens ${args.join(' ')}`);
      const r = await run(args, env, remaining());
      if (r.code !== 0) {
        say(`link failed (exit ${r.code})`);
        return 1;
      }
      const linked = JSON.parse(r.stdout);
      say(`linked as ${linked.id} (scopes: ${linked.scopes.join(' ') || 'none'})`);
      target = linked.id;
    }
    // An unlinked URL is linked by the bridge on first use (through the broker it starts).
    await session(scenario, ctx, env, target);
    say('session complete');
    return 0;
  } catch (err) {
    say(`session failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    brokerPid = await stopBroker(home);
    if (brokerPid !== undefined) {
      for (let i = 0; i < 40 && isAlive(brokerPid); i++) await new Promise((r) => setTimeout(r, 50));
    }
    await rm(home, { recursive: true, force: true }).catch(() => {});
  }
}

const watchdog = setTimeout(() => {
  say(`gave up after ${BUDGET_MS} ms`);
  process.exit(1);
}, BUDGET_MS + 5000);
watchdog.unref();
process.exit(await main());
