// The network's pure decisions: which URLs go through which proxy, PAC answers, failure words.
import { describe, expect, it } from 'vitest';
import { parseRequest, ProtocolError } from '../../src-main/core/broker/protocol.js';
import { describeNetworkFailure, envHasProxy, noProxyMatches, parseNoProxy, parseProxyUrl, proxyAuthorization, proxyLabel, routeFromEnv, routeFromPac, type Route } from '../../src-main/core/platform/network-rules.js';

const via = (r: Route) => (r.kind === 'proxy' ? r.proxy.href : 'direct');
const route = (url: string, env: Record<string, string>) => via(routeFromEnv(new URL(url), env));

describe('routeFromEnv', () => {
  it('sends https through HTTPS_PROXY and http through HTTP_PROXY; no variables: direct', () => {
    const env = { HTTPS_PROXY: 'http://proxy.corp:8080', HTTP_PROXY: 'http://plain.corp:3128' };
    expect(route('https://mcp.example.com/mcp', env)).toBe('http://proxy.corp:8080/');
    expect(route('http://mcp.example.com/mcp', env)).toBe('http://plain.corp:3128/');
    expect(route('https://mcp.example.com/mcp', {})).toBe('direct');
  });

  it('lets https fall back to HTTP_PROXY, and the lower-case form win', () => {
    expect(route('https://a.example/', { HTTP_PROXY: 'http://p:1' })).toBe('http://p:1/');
    expect(route('https://a.example/', { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:2' })).toBe('http://low:1/');
    expect(route('http://a.example/', { HTTPS_PROXY: 'http://p:1' })).toBe('direct');
    expect(envHasProxy({ http_proxy: ' ' })).toBe(false);
  });

  it('keeps loopback direct whatever the variables say', () => {
    const env = { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1', NO_PROXY: '' };
    for (const u of ['http://127.0.0.1:3000/cb', 'http://127.5.6.7/', 'http://localhost:9/', 'http://[::1]:8080/', 'https://app.localhost/']) expect(route(u, env)).toBe('direct');
  });

  it('honours NO_PROXY: names, suffixes, *.suffix, ports, [::1], spaces and *', () => {
    const env = { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'intranet.corp, .internal.example,*.svc.example  git.example:8443,[::1]:9000,10.1.2.3' };
    expect(route('https://intranet.corp/', env)).toBe('direct');
    expect(route('https://wiki.intranet.corp/', env)).toBe('direct');
    expect(route('https://notintranet.corp/', env)).toBe('http://p:1/');
    expect(route('https://a.internal.example/', env)).toBe('direct');
    expect(route('https://internal.example/', env)).toBe('direct');
    expect(route('https://x.svc.example/', env)).toBe('direct');
    expect(route('https://git.example:8443/', env)).toBe('direct');
    expect(route('https://git.example/', env)).toBe('http://p:1/');
    expect(route('https://10.1.2.3/', env)).toBe('direct');
    expect(route('https://mcp.example.com/', env)).toBe('http://p:1/');
    expect(route('https://anything.example/', { HTTPS_PROXY: 'http://p:1', no_proxy: '*' })).toBe('direct');
  });

  it('parses NO_PROXY entries for IPv6 with and without brackets', () => {
    expect(parseNoProxy('[::1],::1,[fd00::5]:443')).toEqual([
      { host: '::1', suffix: false },
      { host: '::1', suffix: false },
      { host: 'fd00::5', suffix: false, port: 443 },
    ]);
    const entries = parseNoProxy('[fd00::5]:443');
    expect(noProxyMatches(new URL('https://[fd00::5]/'), entries)).toBe(true);
    expect(noProxyMatches(new URL('https://[fd00::5]:8443/'), entries)).toBe(false);
  });

  it('takes a bare host:port as http, and refuses what it cannot use, in words without the password', () => {
    expect(parseProxyUrl('proxy.corp:8080', 'HTTPS_PROXY').href).toBe('http://proxy.corp:8080/');
    expect(() => parseProxyUrl('socks5://p:1080', 'HTTPS_PROXY')).toThrow(/socks5 proxy; only http/);
    let msg = '';
    try {
      parseProxyUrl('http://user:s3cret@[bad', 'HTTPS_PROXY');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/HTTPS_PROXY is not a valid proxy URL/);
    expect(msg).not.toContain('s3cret');
  });

  it('turns credentials in the proxy URL into Basic, percent-decoded, and never shows them in labels', () => {
    const p = new URL('http://ann%40corp:p%3Ass@proxy.corp:8080');
    expect(proxyAuthorization(p)).toBe(`Basic ${Buffer.from('ann@corp:p:ss').toString('base64')}`);
    expect(proxyAuthorization(new URL('http://proxy.corp:8080'))).toBeUndefined();
    expect(proxyLabel(p)).toBe('http://proxy.corp:8080');
  });
});

describe('routeFromPac', () => {
  it('takes the first usable entry of a PAC answer', () => {
    expect(via(routeFromPac('PROXY proxy.corp:8080; DIRECT'))).toBe('http://proxy.corp:8080/');
    expect(via(routeFromPac('HTTPS secure.corp:443'))).toBe('https://secure.corp/');
    expect(via(routeFromPac('SOCKS5 s:1080; PROXY p:3128'))).toBe('http://p:3128/');
    expect(via(routeFromPac('DIRECT'))).toBe('direct');
    expect(via(routeFromPac(''))).toBe('direct');
    expect(via(routeFromPac('SOCKS s:1080'))).toBe('direct');
    expect(via(routeFromPac('  proxy   p:1 ;direct'))).toBe('http://p:1/');
  });
});

describe('describeNetworkFailure', () => {
  const target = new URL('https://auth.example.corp:8443/token');
  const proxied: Route = { kind: 'proxy', proxy: new URL('http://proxy.corp:8080') };
  it('names the host and what to do', () => {
    expect(describeNetworkFailure({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', target, route: { kind: 'direct' }, hasExtraCa: false })).toMatch(/certificate of auth\.example\.corp is not trusted.*NODE_EXTRA_CA_CERTS/);
    expect(describeNetworkFailure({ code: 'SELF_SIGNED_CERT_IN_CHAIN', target, route: proxied, hasExtraCa: true })).toMatch(/does not hold the authority/);
    expect(describeNetworkFailure({ proxyStatus: 407, target, route: proxied, hasExtraCa: false })).toMatch(/proxy http:\/\/proxy\.corp:8080 needs a password \(HTTP 407\) to reach auth\.example\.corp:8443/);
    expect(describeNetworkFailure({ proxyStatus: 407, target, route: { kind: 'proxy', proxy: new URL('http://u:secret@proxy.corp:8080') }, hasExtraCa: false })).toMatch(/refused the user name and password/);
    expect(describeNetworkFailure({ proxyStatus: 403, target, route: proxied, hasExtraCa: false })).toMatch(/would not connect to auth\.example\.corp:8443 \(HTTP 403\)/);
    expect(describeNetworkFailure({ code: 'ECONNREFUSED', target, route: proxied, hasExtraCa: false })).toMatch(/Could not reach the proxy http:\/\/proxy\.corp:8080 \(ECONNREFUSED\) to connect to auth\.example\.corp/);
    expect(describeNetworkFailure({ code: 'ENOTFOUND', target, route: { kind: 'direct' }, hasExtraCa: false })).toMatch(/Could not find auth\.example\.corp \(ENOTFOUND\).*HTTPS_PROXY/);
    expect(describeNetworkFailure({ code: 'EWHATEVER', target, route: { kind: 'direct' }, hasExtraCa: false })).toBeUndefined();
    const withPass = describeNetworkFailure({ proxyStatus: 407, target, route: { kind: 'proxy', proxy: new URL('http://u:secret@proxy.corp:8080') }, hasExtraCa: false });
    expect(withPass).not.toContain('secret');
  });
});

describe('the broker protocol: resolveProxy', () => {
  it('takes an http(s) URL and refuses anything else', () => {
    expect(parseRequest('{"id":1,"method":"resolveProxy","params":{"url":"https://mcp.example.corp/mcp"}}')).toEqual({ id: 1, method: 'resolveProxy', params: { url: 'https://mcp.example.corp/mcp' } });
    for (const url of ['file:///etc/passwd', 'not a url', '', 42]) {
      expect(() => parseRequest(JSON.stringify({ id: 2, method: 'resolveProxy', params: { url } }))).toThrow(ProtocolError);
    }
  });
});
