// Recognising mcp-remote in a client's entry (however it is launched) and reading its flags,
// as mcp-remote 0.1.x–0.15 reads them; the names its token store files a grant under; and
// safe display of its command lines. What carries over to the bridge: mcp-remote-notes.ts.
import { createHash } from 'node:crypto';
import { shellQuote } from './entries.js';

export interface McpRemoteInvocation {
  /** The server URL exactly as written (mcp-remote hashes this string). */
  url: string | undefined;
  /** How it is launched: npx, bunx, pnpm dlx, yarn dlx, npm exec, bun x, node, mcp-remote. */
  runner: string;
  /** The package spec when given, e.g. `mcp-remote@0.1.29`. */
  packageSpec?: string;
  /** A shell wrapper kept in front of the runner (Windows `cmd /c`). */
  wrapper: string[];
  headers: Array<{ name: string; value: string }>;
  /** Every other option, in order. */
  options: Array<{ flag: string; value?: string }>;
  callbackPort?: string;
  extraPositionals: string[];
}

const VALUE_FLAGS = new Set([
  'header',
  'header-file',
  'transport',
  'protocol',
  'host',
  'callback-path',
  'auth-success-url',
  'static-oauth-client-metadata',
  'static-oauth-client-info',
  'client-metadata-url',
  'token-endpoint',
  'resource',
  'ignore-tool',
  'auth-timeout',
  'connect-timeout',
  'body-timeout',
  'headers-timeout',
  'ping-interval',
  'authorize-param',
]);

function exeName(p: string): string {
  return (p.split(/[\\/]/).pop() ?? p).toLowerCase().replace(/\.(cmd|exe|bat|ps1)$/, '');
}

/** `mcp-remote`, `mcp-remote@0.1.29`, `mcp-remote@latest`. */
function isMcpRemoteSpec(spec: string): boolean {
  return /^mcp-remote(@[^@\s]+)?$/i.test(spec);
}

// Package-runner options that take a value; the rest are flags.
const RUNNER_VALUE_OPTS = new Set(['-p', '--package', '--cache', '--registry', '--userconfig', '--prefix', '-c', '--call', '--node-options']);

/** Index of the package spec after the runner's own options, and any `-p <pkg>` seen. */
function skipRunnerOptions(argv: readonly string[], from: number): { at: number; packages: string[] } {
  const packages: string[] = [];
  let i = from;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') return { at: i + 1, packages };
    if (!a.startsWith('-')) break;
    const eq = a.indexOf('=');
    const name = eq === -1 ? a : a.slice(0, eq);
    if (RUNNER_VALUE_OPTS.has(name)) {
      const v = eq === -1 ? argv[i + 1] : a.slice(eq + 1);
      if ((name === '-p' || name === '--package') && v !== undefined) packages.push(v);
      i += eq === -1 ? 2 : 1;
    } else i++;
  }
  return { at: i, packages };
}

/** Where mcp-remote's own arguments start, or undefined when the entry does not run it. */
function locate(argv: readonly string[]): { runner: string; at: number; packageSpec?: string; wrapper: string[] } | undefined {
  let i = 0;
  const wrapper: string[] = [];
  // Windows configs often say `cmd /c npx …` because npx is a .cmd script.
  if (exeName(argv[0] ?? '') === 'cmd' && /^\/[cks]$/i.test(argv[1] ?? '')) {
    wrapper.push(argv[0]!, argv[1]!);
    i = 2;
  }
  const exe = exeName(argv[i] ?? '');
  const sub = argv[i + 1];
  let runner: string | undefined;
  let from = i + 1;
  if (exe === 'npx' || exe === 'bunx' || exe === 'pnpx') runner = exe;
  else if ((exe === 'pnpm' || exe === 'yarn') && sub === 'dlx') runner = `${exe} dlx`;
  else if (exe === 'npm' && (sub === 'exec' || sub === 'x')) runner = 'npm exec';
  else if (exe === 'bun' && sub === 'x') runner = 'bun x';
  if (runner !== undefined) {
    if (runner.includes(' ')) from = i + 2;
    const { at, packages } = skipRunnerOptions(argv, from);
    const spec = argv[at];
    if (spec === undefined) return undefined;
    const pkg = packages.find(isMcpRemoteSpec);
    if (isMcpRemoteSpec(spec) || (pkg !== undefined && spec === 'mcp-remote')) {
      const rest = argv[at + 1] === '--' ? at + 2 : at + 1;
      return { runner, at: rest, packageSpec: pkg ?? spec, wrapper };
    }
    return undefined;
  }
  if (exe === 'node' || exe === 'bun' || exe === 'nodejs') {
    // node [node options] /path/to/mcp-remote/dist/proxy.js <url> …
    let j = i + 1;
    while (j < argv.length && argv[j]!.startsWith('-')) j++;
    const script = argv[j];
    if (script !== undefined && /mcp-remote/i.test(script) && !/client\.js$/i.test(script)) return { runner: exe === 'bun' ? 'bun' : 'node', at: j + 1, wrapper };
    return undefined;
  }
  if (exe === 'mcp-remote') return { runner: 'mcp-remote', at: i + 1, wrapper };
  return undefined;
}

/** Parses an entry's command line; undefined when it does not run mcp-remote. */
export function parseMcpRemote(command: string, args: readonly string[]): McpRemoteInvocation | undefined {
  const argv = [command, ...args];
  const found = locate(argv);
  if (!found) return undefined;
  const inv: McpRemoteInvocation = {
    url: undefined,
    runner: found.runner,
    ...(found.packageSpec !== undefined ? { packageSpec: found.packageSpec } : {}),
    wrapper: found.wrapper,
    headers: [],
    options: [],
    extraPositionals: [],
  };
  const positionals: string[] = [];
  for (let i = found.at; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const flag = a.slice(2, eq === -1 ? undefined : eq);
      let value: string | undefined;
      if (eq !== -1) value = a.slice(eq + 1);
      else if (VALUE_FLAGS.has(flag) && i + 1 < argv.length) value = argv[++i];
      if (flag === 'header' && value !== undefined) {
        // mcp-remote's own rule: `Name: value`, the name in [A-Za-z0-9_-].
        const m = /^([A-Za-z0-9_-]+):\s*(.*)$/s.exec(value);
        inv.headers.push(m ? { name: m[1]!, value: m[2]! } : { name: '', value });
        continue;
      }
      inv.options.push(value === undefined ? { flag } : { flag, value });
      continue;
    }
    positionals.push(a);
  }
  inv.url = positionals[0];
  const second = positionals[1];
  if (second !== undefined && /^\d+$/.test(second)) {
    inv.callbackPort = second;
    inv.extraPositionals = positionals.slice(2);
  } else inv.extraPositionals = positionals.slice(1);
  return inv;
}

export function optionValue(inv: McpRemoteInvocation, flag: string): string | undefined {
  return inv.options.find((o) => o.flag === flag)?.value;
}

export function hasOption(inv: McpRemoteInvocation, flag: string): boolean {
  return inv.options.some((o) => o.flag === flag);
}

// ------------------------------------------------------------------ the token store key

/**
 * The names mcp-remote may have filed this server's grant under: md5 of the URL (0.1.x), and
 * md5 of the URL joined by "|" with --resource, --authorize-param, --header (raw, before ${VAR}
 * expansion), --client-metadata-url and --token-endpoint (newer versions).
 */
export function mcpRemoteHashes(inv: McpRemoteInvocation): string[] {
  if (inv.url === undefined) return [];
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const parts = [inv.url];
  const resource = optionValue(inv, 'resource')?.trim();
  if (resource && !hasOption(inv, 'disable-resource-parameter')) parts.push(resource);
  const params: Record<string, string> = {};
  for (const o of inv.options) {
    if (o.flag !== 'authorize-param' || o.value === undefined) continue;
    const sep = o.value.indexOf('=');
    if (sep >= 1) params[o.value.slice(0, sep).trim()] = o.value.slice(sep + 1);
  }
  if (Object.keys(params).length) parts.push(JSON.stringify(params, Object.keys(params).sort()));
  const headers: Record<string, string> = {};
  for (const h of inv.headers) if (h.name) headers[h.name] = h.value;
  if (Object.keys(headers).length) parts.push(JSON.stringify(headers, Object.keys(headers).sort()));
  const cimd = optionValue(inv, 'client-metadata-url')?.trim();
  if (cimd && /^https:\/\/[^/]+\/./.test(cimd)) parts.push(cimd);
  const te = optionValue(inv, 'token-endpoint')?.trim();
  if (te && hasOption(inv, 'client-credentials')) {
    try {
      parts.push(new URL(te).toString());
    } catch {
      // mcp-remote refuses to start with it; nothing stored under that key
    }
  }
  return [...new Set([md5(parts.join('|')), md5(inv.url)])];
}

// ------------------------------------------------------------------ safe display

/** A URL for people: query values hidden (API keys travel there sometimes). */
export function displayServerUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const q = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=…`).join('&');
    u.search = '';
    u.hash = '';
    return q ? `${u.href}?${q}` : u.href;
  } catch {
    return raw.replace(/[?#].*$/s, '?…');
  }
}

/** The entry's command line with header values, client info and query values hidden. */
export function describeCommand(command: string, args: readonly string[]): string {
  const out: string[] = [];
  const argv = [command, ...args];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const prev = argv[i - 1];
    if (prev === '--header') out.push(`${a.split(':')[0]}: …`);
    else if (prev === '--static-oauth-client-info' || prev === '--static-oauth-client-metadata' || prev === '--authorize-param') out.push(a.startsWith('@') ? a : '…');
    else if (/^https?:\/\//i.test(a)) out.push(displayServerUrl(a));
    else out.push(a);
  }
  return out.map(shellQuote).join(' ');
}
