// A private certificate authority made at test time (openssl), and a server certificate it signs
// for the company names the rig's proxy resolves. Nothing is reused between runs; keys stay in a
// temp dir the caller removes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CorpTls {
  dir: string;
  /** PEM file of the CA: what NODE_EXTRA_CA_CERTS names. */
  caFile: string;
  caPem: string;
  key: string;
  cert: string;
}

export function makeCorpTls(names: string[]): CorpTls {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-corp-tls-'));
  const f = (n: string) => join(dir, n);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Example Corp Test Root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${names[0]}`);
  writeFileSync(f('ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf'));
  return { dir, caFile: f('ca.pem'), caPem: readFileSync(f('ca.pem'), 'utf8'), key: readFileSync(f('server.key'), 'utf8'), cert: readFileSync(f('server.pem'), 'utf8') };
}

/** The rig's fetch to its own company names: straight to 127.0.0.1, trusting the test CA. */
export async function selfFetchFor(ca: string): Promise<typeof fetch> {
  const { Agent } = await import('undici');
  type Lookup = (h: string, o: { all?: boolean }, cb: (e: null, a: string | Array<{ address: string; family: number }>, f?: number) => void) => void;
  const lookup: Lookup = (_h, o, cb) => (o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4));
  const dispatcher = new Agent({ connect: { ca, lookup: lookup as never } });
  return ((input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, dispatcher } as RequestInit)) as typeof fetch;
}
