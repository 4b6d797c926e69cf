// What carries over from an mcp-remote entry to the bridge: a note per flag, the link flags,
// and the headers (literal values moved into the entry's env).
import { isLoopbackHost } from '../platform/urls.js';
import { checkHeader } from '../platform/custom-headers.js';
import type { McpRemoteInvocation } from './mcp-remote.js';

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
