#!/usr/bin/env node
// `npm run test:conformance`: runs the official MCP conformance suite's client scenarios
// against mcp-tokens (client.mjs drives `link` and `bridge` as a person and Claude Desktop
// would) and prints one row per scenario and spec version, then `N passed, M failed`.
//
// The suite needs Node 22, which lives in test/conformance/node_modules (kept out of the root
// so npm scripts stay on the system Node); the client under test runs on the system Node.
// Every run is bounded in time. Environment: CONFORMANCE_JOBS (parallel runs, default 4),
// CONFORMANCE_ONLY (comma-separated scenario names), CONFORMANCE_KEEP=1 (keep the results dir).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '../..');
const NODE22 = join(HERE, 'node_modules/node/bin/node');
const SUITE = join(HERE, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const CLIENT = join(HERE, 'client.mjs');
/** The suite kills the client after this; the client gives itself a little less. */
const CLIENT_TIMEOUT_MS = 60_000;
/** A whole suite run (mock servers up, client, checks) is killed after this. */
const RUN_TIMEOUT_MS = 90_000;
const JOBS = Math.max(1, Number(process.env.CONFORMANCE_JOBS ?? Math.min(4, cpus().length)));

// Issue 6: every client auth scenario of these spec versions; 2025-03-26 holds the two
// backwards-compatibility ones.
const AUTH_VERSIONS = ['2025-03-26', '2025-11-25', '2026-07-28'];
// Issue 7: the non-auth client scenarios, through the bridge, at each version they apply to.
const WIRE_SCENARIOS = [
  'initialize',
  'tools_call',
  'sse-retry',
  'request-metadata',
  'http-standard-headers',
  'http-custom-headers',
  'http-invalid-tool-headers',
  'sep-2322-client-request-state',
  'json-schema-ref-no-deref',
  'json-schema-2020-12-preservation',
  'elicitation-sep1034-client-defaults',
];
const WIRE_VERSIONS = ['2025-11-25', '2026-07-28'];
/**
 * Extension scenarios that are implemented: not on the dated spec timeline, so run once each
 * without --spec-version (the suite's own default). Issue 25: grants no person approves
 * (SEP-1046 client credentials, SEP-1933 workload identity, SEP-990 company sign-in).
 */
const EXTENSION_SCENARIOS = [
  'auth/dpop',
  'auth/dpop-nonce',
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/wif-jwt-bearer',
  'auth/enterprise-managed-authorization',
];
const EXTENSION = 'extension';

/** Extension scenarios a desktop client has no use for, or that are not implemented; listed, not run. */
const NOT_APPLICABLE = {
  'sep-2640-client-no-prefetch': 'skills extension (SEP-2640): not an MCP client feature the bridge has',
  'sep-2640-client-verify-digest': 'skills extension (SEP-2640): as above',
  'sep-2640-client-verify-size': 'skills extension (SEP-2640): as above',
  'sep-2640-client-verify-frontmatter': 'skills extension (SEP-2640): as above',
};

function runProcess(cmd, args, { timeoutMs, cwd }) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The suite runs the client through a shell: end the whole process group.
      try {
        process.kill(process.platform === 'win32' ? child.pid : -child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out, timedOut });
    });
  });
}

/** The scenarios the installed suite lists for a spec version (every one, extensions included, without). */
async function listed(version) {
  const r = await runProcess(NODE22, [SUITE, 'list', '--client', ...(version ? ['--spec-version', version] : [])], { timeoutMs: 30_000, cwd: ROOT });
  if (r.code !== 0) throw new Error(`conformance list failed:\n${r.out}`);
  return [...r.out.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]);
}

/** A file the suite saved for the run (checks.json, stderr.txt), wherever it nested it. */
async function savedFile(dir, name) {
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name === name) return readFile(join(e.parentPath ?? e.path, e.name), 'utf8');
  }
  return undefined;
}

async function runScenario(job, resultsRoot) {
  const out = join(resultsRoot, `${job.index}`);
  await mkdir(out, { recursive: true });
  const command = `${process.execPath} --import tsx ${CLIENT}`;
  const version = job.version === EXTENSION ? [] : ['--spec-version', job.version];
  const args = [SUITE, 'client', '--command', command, '--scenario', job.scenario, ...version, '--timeout', String(CLIENT_TIMEOUT_MS), '-o', out];
  const t0 = Date.now();
  const r = await runProcess(NODE22, args, { timeoutMs: RUN_TIMEOUT_MS, cwd: ROOT });
  const saved = await savedFile(out, 'checks.json').catch(() => undefined);
  const checks = saved ? JSON.parse(saved) : [];
  const clientStderr = (await savedFile(out, 'stderr.txt').catch(() => undefined)) ?? '';
  const count = (s) => checks.filter((c) => c.status === s).length;
  const skipped = /SKIPPED: scenario/.test(r.out);
  const clientExit = r.out.match(/Client exited with code (\d+)/)?.[1];
  return {
    ...job,
    ms: Date.now() - t0,
    passed: count('SUCCESS'),
    failed: count('FAILURE'),
    warnings: count('WARNING'),
    ok: r.code === 0 && !r.timedOut && !skipped && checks.length > 0,
    skipped,
    timedOut: r.timedOut || /CLIENT TIMED OUT/.test(r.out),
    clientExit: clientExit === undefined ? 0 : Number(clientExit),
    failures: checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING').map((c) => `${c.status === 'FAILURE' ? 'FAIL' : 'WARN'} ${c.id}: ${c.errorMessage ?? c.description}`),
    output: r.out,
    clientStderr,
    dir: out,
  };
}

async function pool(items, n, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]);
      }
    }),
  );
  return results;
}

async function main() {
  for (const [what, p] of [['Node 22 for the suite', NODE22], ['the conformance suite', SUITE], ['the built CLI (npm run build)', join(ROOT, 'dist/cli.js')]]) {
    if (!existsSync(p)) {
      console.error(`Missing ${what}: ${p}`);
      return 1;
    }
  }
  const only = process.env.CONFORMANCE_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const jobs = [];
  const seenNa = new Set();
  for (const version of [...new Set([...AUTH_VERSIONS, ...WIRE_VERSIONS])]) {
    for (const scenario of await listed(version)) {
      if (NOT_APPLICABLE[scenario]) {
        seenNa.add(scenario);
        continue;
      }
      const wanted = (scenario.startsWith('auth/') && AUTH_VERSIONS.includes(version)) || (WIRE_SCENARIOS.includes(scenario) && WIRE_VERSIONS.includes(version));
      if (!wanted || (only && !only.includes(scenario))) continue;
      jobs.push({ index: jobs.length, scenario, version, kind: scenario.startsWith('auth/') ? 'auth' : 'wire' });
    }
  }
  const undated = await listed(undefined);
  for (const scenario of EXTENSION_SCENARIOS) {
    if (!undated.includes(scenario)) throw new Error(`The installed suite no longer lists ${scenario}.`);
    if (!only || only.includes(scenario)) jobs.push({ index: jobs.length, scenario, version: EXTENSION, kind: 'auth' });
  }
  // Every extension the suite knows is listed as n/a even when a dated version does not list it.
  for (const s of Object.keys(NOT_APPLICABLE)) seenNa.add(s);
  console.log(`Running ${jobs.length} conformance runs (${JOBS} at a time)...`);
  const resultsRoot = await mkdtemp(join(tmpdir(), 'mcp-tokens-conformance-results-'));
  const results = await pool(jobs, JOBS, async (job) => {
    const r = await runScenario(job, resultsRoot);
    process.stderr.write(`  ${r.ok ? 'pass' : 'FAIL'}  ${job.scenario} @ ${job.version} (${(r.ms / 1000).toFixed(1)} s)\n`);
    return r;
  });

  const rows = results.map((r) => [
    r.scenario,
    r.version,
    r.ok ? (r.warnings ? 'warn' : 'pass') : r.timedOut ? 'FAIL (timeout)' : r.skipped ? 'FAIL (skipped)' : r.failed === 0 && r.warnings > 0 ? 'FAIL (warnings)' : 'FAIL',
    String(r.passed),
    String(r.failed),
    String(r.warnings),
  ]);
  const header = ['scenario', 'spec', 'result', 'passed', 'failed', 'warnings'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const kind of ['auth', 'wire']) for (const [i, r] of results.entries()) if (r.kind === kind) console.log(line(rows[i]));
  console.log('');
  console.log('Not applicable (not run):');
  for (const s of [...seenNa].sort()) console.log(`  n/a  ${s} — ${NOT_APPLICABLE[s]}`);

  const bad = results.filter((r) => !r.ok);
  if (bad.length) {
    console.log('');
    console.log('Failures:');
    for (const r of bad) {
      console.log(`  ${r.scenario} @ ${r.version}${r.clientExit ? ` (client exit ${r.clientExit})` : ''}${r.timedOut ? ' (timed out)' : ''}:`);
      for (const f of r.failures.slice(0, 12)) console.log(`    ${f.slice(0, 300)}`);
      const tail = (r.clientStderr || r.output).trim().split('\n').filter((l) => /error|fail|refus|warn|\[client\]/i.test(l)).slice(-6);
      for (const l of tail) console.log(`    | ${l.slice(0, 300)}`);
    }
  }
  const keep = process.env.CONFORMANCE_KEEP === '1';
  if (keep) console.log(`\nResults kept in ${resultsRoot}`);
  else await rm(resultsRoot, { recursive: true, force: true });
  const auth = results.filter((r) => r.kind === 'auth');
  const wire = results.filter((r) => r.kind === 'wire');
  console.log('');
  console.log(`auth: ${auth.filter((r) => r.ok).length} passed, ${auth.filter((r) => !r.ok).length} failed; wire (issue 7): ${wire.filter((r) => r.ok).length} passed, ${wire.filter((r) => !r.ok).length} failed; ${seenNa.size} not applicable`);
  console.log(`${results.length - bad.length} passed, ${bad.length} failed`);
  return bad.length ? 1 : 0;
}

process.exit(await main());
