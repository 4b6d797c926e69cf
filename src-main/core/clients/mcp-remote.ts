// Recognising mcp-remote in a client's entry (however it is launched) and reading its flags,
// as mcp-remote 0.1.x–0.15 reads them, to say what carries over to the bridge and what not.
import { createHash } from 'node:crypto';
import { isLoopbackHost } from '../platform/urls.js';
import { checkHeader } from '../platform/custom-headers.js';
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

// ------------------------------------------------------------------ what carries over

/**
 * - automatic: the bridge does this by itself
 * - dropped: not needed, or no equivalent that matters
 * - action: carries over through a step the user runs (`mcp-tokens link … --client-id …`)
 * - blocking: migrating would change what the server sees; the entry stays on mcp-remote
 */
export type NoteKind = 'automatic' | 'dropped' | 'action' | 'blocking';

export interface MigrationNote {
  /** The mcp-remote flag or argument the note is about. */
  flag: string;
  kind: NoteKind;
  text: string;
}

export interface NotesResult {
  notes: MigrationNote[];
  /** Flags for `mcp-tokens link <url> …` that carry the registration settings over. */
  linkFlags: string[];
  /** Headers for the bridge's `--header` flags, values with `${VAR}` references only. */
  bridgeHeaders: Array<{ name: string; value: string }>;
  /** Env entries to add (literal header values moved out of the command line). */
  envAdd: Record<string, string>;
}

/** The env variable a literal header value moves into: MCP_TOKENS_HEADER_X_API_KEY. */
export function headerEnvName(name: string): string {
  return `MCP_TOKENS_HEADER_${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/** ${VAR} references in a value, and whether the entry's env sets them. */
function envRefs(value: string, env: Record<string, string>): string {
  const names = [...value.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!);
  if (!names.length) return '';
  return ` (value from ${names.map((n) => (Object.hasOwn(env, n) ? `\${${n}} in the entry's env` : `\${${n}}`)).join(', ')})`;
}

function substitute(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([^}]+)\}/g, (m, n: string) => (Object.hasOwn(env, n) ? env[n]! : m));
}

const NO_EQUIVALENT = 'no equivalent in the bridge, which uses its own defaults';

export function migrationNotes(inv: McpRemoteInvocation, entryEnv: Record<string, string> = {}): NotesResult {
  const notes: MigrationNote[] = [];
  const linkFlags: string[] = [];
  const bridgeHeaders: NotesResult['bridgeHeaders'] = [];
  const envAdd: Record<string, string> = {};
  const note = (flag: string, kind: NoteKind, text: string) => notes.push({ flag, kind, text });

  let url: URL | undefined;
  if (inv.url === undefined) note('<url>', 'blocking', 'no server URL found in the arguments');
  else {
    try {
      url = new URL(inv.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      url = undefined;
      note('<url>', 'blocking', `"${inv.url.slice(0, 100)}" is not an http(s) URL`);
    }
  }
  if (url?.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    note('--allow-http', 'blocking', 'plain http to another machine: the bridge only uses https, or http to this machine');
  }

  for (const h of inv.headers) {
    const name = h.name || '(malformed)';
    let refused: string | undefined;
    try {
      checkHeader({ name: h.name, value: h.value });
    } catch (err) {
      refused = err instanceof Error ? err.message : String(err);
    }
    if (/^authorization$/i.test(h.name)) {
      note(`--header ${name}`, 'blocking', `a fixed Authorization header is a static credential; the bridge signs in with OAuth instead${envRefs(h.value, entryEnv)}; kept on mcp-remote so the header is still sent`);
    } else if (refused !== undefined) {
      note(`--header ${name}`, 'blocking', `${refused.replace(/\.$/, '')}; kept on mcp-remote so the header is still sent`);
    } else if (/\$\{[^}]+\}/.test(h.value)) {
      bridgeHeaders.push({ name: h.name, value: h.value });
      note(`--header ${name}`, 'automatic', `passed to the bridge as --header, which sends it to this server only${envRefs(h.value, entryEnv)}, read when the bridge runs`);
    } else {
      // A literal value may be an API key: it moves into the entry's env, out of the command line.
      const v = headerEnvName(h.name);
      envAdd[v] = h.value;
      bridgeHeaders.push({ name: h.name, value: `\${${v}}` });
      note(`--header ${name}`, 'automatic', `passed to the bridge as --header "${h.name}: \${${v}}", which sends it to this server only; the value moved into the entry's env as ${v}, out of the command line`);
    }
  }

  for (const o of inv.options) {
    const v = o.value;
    switch (o.flag) {
      case 'header-file':
        note('--header-file', 'blocking', 'headers read from a file are not supported by the bridge (use --header); kept on mcp-remote');
        break;
      case 'transport':
        note(`--transport ${v ?? ''}`.trim(), 'automatic', 'the bridge picks Streamable HTTP or legacy SSE by itself');
        break;
      case 'protocol':
        note(`--protocol ${v ?? ''}`.trim(), 'automatic', 'the bridge detects the server’s protocol revision by itself');
        break;
      case 'host':
      case 'callback-path':
        note(`--${o.flag}`, 'dropped', 'the sign-in redirect goes to 127.0.0.1 on a free port (RFC 8252)');
        break;
      case 'allow-http':
        if (!(url?.protocol === 'http:' && !isLoopbackHost(url.hostname))) note('--allow-http', 'dropped', 'not needed: https, or http to this machine, is allowed');
        break;
      case 'debug':
        note('--debug', 'dropped', 'set MCP_TOKENS_DEBUG=1 in the entry’s env for debug logs');
        break;
      case 'resource': {
        const same = v !== undefined && url !== undefined && sameResource(v, url);
        if (same || !v?.trim()) note('--resource', 'dropped', 'the bridge uses the resource the server advertises (RFC 9728), which is this URL');
        else note('--resource', 'action', `the bridge binds tokens to the resource the server advertises (RFC 9728), not ${v}; if the server advertises none, sign-in may fail`);
        break;
      }
      case 'disable-resource-parameter':
        note('--disable-resource-parameter', 'blocking', 'the bridge always sends the resource parameter (RFC 8707); kept on mcp-remote');
        break;
      case 'authorize-param':
        note(`--authorize-param ${(v ?? '').split('=')[0]}`, 'blocking', 'extra authorization parameters are not supported by mcp-tokens; kept on mcp-remote');
        break;
      case 'static-oauth-client-info': {
        const id = staticClientId(v, entryEnv);
        if (id.clientId !== undefined) linkFlags.push('--client-id', id.clientId);
        if (id.hasSecret) linkFlags.push('--client-secret-file', '<file holding the client secret>');
        note(
          '--static-oauth-client-info',
          'action',
          id.clientId !== undefined
            ? `pre-registered client ${id.clientId}: link with --client-id${id.hasSecret ? ' and --client-secret-file (the secret is not shown)' : ''}; its redirect URIs must allow http://127.0.0.1 on any port`
            : `pre-registered client ${id.fromFile ? `in ${id.fromFile}` : '(unreadable)'}: link with --client-id; its redirect URIs must allow http://127.0.0.1 on any port`,
        );
        break;
      }
      case 'static-oauth-client-metadata': {
        const scope = staticScope(v);
        if (scope !== undefined) {
          linkFlags.push('--scope', scope);
          note('--static-oauth-client-metadata', 'action', `scope "${scope}": link with --scope; other registration metadata is chosen by mcp-tokens`);
        } else note('--static-oauth-client-metadata', 'dropped', 'registration metadata is chosen by mcp-tokens');
        break;
      }
      case 'client-metadata-url':
        if (v !== undefined) linkFlags.push('--client-metadata-url', v);
        note('--client-metadata-url', 'action', 'link with --client-metadata-url');
        break;
      case 'device-code':
        linkFlags.push('--flow', 'device');
        note('--device-code', 'action', 'link with --flow device');
        break;
      case 'client-credentials':
      case 'token-endpoint':
        note(`--${o.flag}`, 'blocking', 'machine-to-machine grants are not supported: mcp-tokens signs a person in; kept on mcp-remote');
        break;
      case 'use-id-token':
        note('--use-id-token', 'blocking', 'the bridge sends the access token, never the ID token; kept on mcp-remote');
        break;
      case 'ignore-tool':
        note(`--ignore-tool ${v ?? ''}`.trim(), 'blocking', 'the bridge does not filter tools; migrating would expose this tool again; kept on mcp-remote');
        break;
      case 'auth-success-url':
      case 'silent':
      case 'auth-timeout':
      case 'connect-timeout':
      case 'body-timeout':
      case 'headers-timeout':
      case 'ping-interval':
      case 'keep-alive':
      case 'ipv4':
      case 'enable-proxy':
      case 'disable-cookies':
        note(`--${o.flag}`, 'dropped', NO_EQUIVALENT);
        break;
      default:
        note(`--${o.flag}`, 'dropped', 'unknown mcp-remote option; left out');
    }
  }
  if (inv.callbackPort !== undefined) {
    note(`callback port ${inv.callbackPort}`, 'dropped', 'ignored: the bridge signs in on an ephemeral loopback port (RFC 8252)');
  }
  for (const p of inv.extraPositionals) note(p.slice(0, 60), 'dropped', 'unknown argument; left out');
  return { notes, linkFlags, bridgeHeaders, envAdd };
}

function sameResource(resource: string, url: URL): boolean {
  try {
    const r = new URL(resource.trim());
    const strip = (u: URL) => `${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}${u.search}`;
    return strip(r) === strip(url);
  } catch {
    return false;
  }
}

function staticClientId(raw: string | undefined, env: Record<string, string>): { clientId?: string; hasSecret: boolean; fromFile?: string } {
  if (raw === undefined) return { hasSecret: false };
  if (raw.startsWith('@')) return { hasSecret: false, fromFile: raw.slice(1) };
  try {
    const info = JSON.parse(substitute(raw, env)) as unknown;
    if (info === null || typeof info !== 'object') return { hasSecret: false };
    const o = info as Record<string, unknown>;
    return { ...(typeof o.client_id === 'string' ? { clientId: o.client_id } : {}), hasSecret: typeof o.client_secret === 'string' && o.client_secret !== '' };
  } catch {
    return { hasSecret: false };
  }
}

function staticScope(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.startsWith('@')) return undefined;
  try {
    const m = JSON.parse(raw) as unknown;
    const scope = m !== null && typeof m === 'object' ? (m as Record<string, unknown>).scope : undefined;
    return typeof scope === 'string' && scope.trim() ? scope.trim() : undefined;
  } catch {
    return undefined;
  }
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
