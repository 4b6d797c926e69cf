// Settings' "Network" card: where proxies and certificates come from in this process, and a
// connection test to a linked server that says in words what failed. The decisions are the
// network module's; this only puts them in the UI's words.
import type { NetworkStatus, NetworkTestResult } from '../../../src-shared/contract.js';
import { caList, describeNetworkSource, netFetch, networkErrorIn, networkSource, proxyLabel, routeFor } from '../platform/network.js';

const TEST_TIMEOUT_MS = 10_000;

export function networkStatus(env: NodeJS.ProcessEnv = process.env): NetworkStatus {
  const source = networkSource(env);
  const mode = source === 'environment' ? 'environment' : source === 'system' ? 'system' : 'direct';
  const summary =
    mode === 'system'
      ? 'System proxy: each address goes the way this computer’s network settings say (PAC, automatic discovery or a fixed proxy).'
      : mode === 'environment'
        ? `Proxy from the environment: ${describeNetworkSource(env).replace(/^proxy from environment \((.*)\)$/, '$1')}${env.NO_PROXY || env.no_proxy ? `, except ${env.no_proxy || env.NO_PROXY}` : ''}.`
        : 'Direct: no proxy is set.';
  let certificates: string;
  try {
    const ca = caList(env);
    certificates = ca ? 'Trusted: the system’s certificate store and the built-in authorities' : 'Trusted: the built-in authorities';
  } catch (err) {
    certificates = (err as Error).message;
  }
  if (env.NODE_EXTRA_CA_CERTS) certificates += `, and the company authorities in ${env.NODE_EXTRA_CA_CERTS}`;
  return { mode, summary, certificates: `${certificates}.` };
}

/** Tries the server's URL once (any HTTP answer means it can be reached) and says how it went. */
export async function testConnection(serverUrl: string): Promise<NetworkTestResult> {
  const url = new URL(serverUrl);
  let via = 'directly';
  try {
    const route = await routeFor(url);
    if (route.kind === 'proxy') via = `through the proxy ${proxyLabel(route.proxy)}`;
    const res = await netFetch(url, { method: 'GET', headers: { accept: 'application/json, text/event-stream' }, redirect: 'manual', signal: AbortSignal.timeout(TEST_TIMEOUT_MS) });
    await res.body?.cancel().catch(() => {});
    return { ok: true, server: url.host, message: `Reached ${url.host} ${via} (it answered HTTP ${res.status}).` };
  } catch (err) {
    const net = networkErrorIn(err);
    if (net) return { ok: false, server: url.host, message: net.message };
    const name = (err as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, server: url.host, message: `No answer from ${url.host} ${via} within ${TEST_TIMEOUT_MS / 1000} s.` };
    const code = (err as { cause?: { code?: unknown } }).cause?.code;
    return { ok: false, server: url.host, message: `Could not reach ${url.host} ${via}${typeof code === 'string' ? ` (${code})` : ''}.` };
  }
}
