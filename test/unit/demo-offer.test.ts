// Issue 27 item 6: "Try the demo server" is offered only when the demo answers on this machine.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { demoAnswers } from '../../src-main/core/api/service.js';

describe('demoAnswers', () => {
  it('is true for a server that answers (even 401), false for a closed port', async () => {
    const srv = createServer((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      expect(await demoAnswers(`http://127.0.0.1:${port}/mcp`)).toBe(true);
    } finally {
      await new Promise((r) => srv.close(r));
    }
    // The same port, now closed.
    expect(await demoAnswers(`http://127.0.0.1:${port}/mcp`)).toBe(false);
  });

  it('gives up on a server that never answers, within its bound', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const srv = createServer(() => {});
    srv.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      expect(await demoAnswers(`http://127.0.0.1:${port}/mcp`, 200)).toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    }
  });
});
