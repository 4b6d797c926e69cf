// A company's HTTP proxy, for tests: CONNECT tunnels and absolute-URI requests, to the names it
// was given only (each mapped to 127.0.0.1; everything else is refused with 403, as a proxy that
// allowlists does), optionally requiring Basic credentials (407). It counts what it passed, so a
// test can prove traffic went through it, and what it refused.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ProxyRecord {
  method: string;
  /** host:port asked for (CONNECT target, or the absolute URI's host). */
  target: string;
  outcome: 'passed' | 'refused' | 'needs-auth';
}

export interface CorpProxy {
  url: string;
  port: number;
  records: ProxyRecord[];
  passed(host?: string): number;
  close(): Promise<void>;
}

export async function startCorpProxy(o: { names: string[]; credentials?: { user: string; password: string } }): Promise<CorpProxy> {
  const names = new Set(o.names.map((n) => n.toLowerCase()));
  const records: ProxyRecord[] = [];
  const sockets = new Set<Socket>();
  const expected = o.credentials ? `Basic ${Buffer.from(`${o.credentials.user}:${o.credentials.password}`).toString('base64')}` : undefined;
  const allowed = (target: string) => names.has(target.replace(/:\d+$/, '').toLowerCase());
  const authorized = (req: IncomingMessage) => !expected || req.headers['proxy-authorization'] === expected;

  const server: Server = createServer((req, res) => {
    // Absolute-URI form: http://host:port/path
    let u: URL;
    try {
      u = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI expected');
      return;
    }
    const target = u.host;
    if (!authorized(req)) {
      records.push({ method: req.method ?? '', target, outcome: 'needs-auth' });
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="corp"' }).end();
      return;
    }
    if (!allowed(target) || u.protocol !== 'http:') {
      records.push({ method: req.method ?? '', target, outcome: 'refused' });
      res.writeHead(403).end('not allowed by the test proxy');
      return;
    }
    records.push({ method: req.method ?? '', target, outcome: 'passed' });
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = request({ host: '127.0.0.1', port: Number(u.port || 80), method: req.method, path: `${u.pathname}${u.search}`, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const target = req.url ?? '';
    socket.on('error', () => {});
    if (!authorized(req)) {
      records.push({ method: 'CONNECT', target, outcome: 'needs-auth' });
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const port = Number(/:(\d+)$/.exec(target)?.[1] ?? NaN);
    if (!allowed(target) || !Number.isInteger(port)) {
      records.push({ method: 'CONNECT', target, outcome: 'refused' });
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    records.push({ method: 'CONNECT', target, outcome: 'passed' });
    const up = connect(port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    sockets.add(up);
    sockets.add(socket);
    const done = () => {
      up.destroy();
      socket.destroy();
    };
    up.on('error', done).on('close', done);
    socket.on('close', done);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    records,
    passed: (host) => records.filter((r) => r.outcome === 'passed' && (!host || r.target.replace(/:\d+$/, '') === host)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
