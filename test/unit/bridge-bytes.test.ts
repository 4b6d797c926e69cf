// The legacy byte path's readers: the head scanner (id and method without a parse) and the
// streaming event-stream reader, fed in every possible split of their input.
import { describe, expect, it } from 'vitest';
import { HeadScanner, scanHead } from '../../src-main/bridge/json-head.js';
import { SseBytes } from '../../src-main/bridge/legacy/sse-bytes.js';

function scanSplit(text: string, at: number) {
  const b = Buffer.from(text);
  const s = new HeadScanner();
  s.push(b.subarray(0, at));
  s.push(b.subarray(at));
  return s.head;
}

describe('head scanner', () => {
  const cases: [string, object][] = [
    ['{"result":{"content":[{"type":"text","text":"a \\"quoted\\" }{ ][ \\\\"}]},"jsonrpc":"2.0","id":999}', { id: 999, answer: true }],
    ['{"jsonrpc":"2.0","id":"req-\\u0031","method":"elicitation/create","params":{"id":5,"method":"x"}}', { id: 'req-1', method: 'elicitation/create', answer: false }],
    ['{ "jsonrpc" : "2.0" , "method" : "notifications/progress" , "params" : { "progressToken" : 1 } }', { method: 'notifications/progress', answer: false }],
    ['{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"id \\"7\\""}}', { id: null, answer: true }],
    ['{"id":-12,"jsonrpc":"2.0","result":{}}', { id: -12, answer: true }],
  ];
  it('finds the top-level id and method, whatever the order and however the bytes are split', () => {
    for (const [text, want] of cases) {
      expect(scanHead(Buffer.from(text))).toEqual(want);
      for (let at = 0; at <= Buffer.byteLength(text); at++) expect(scanSplit(text, at), `${text} split at ${at}`).toEqual(want);
    }
  });

  it('scans a large message without keeping it', () => {
    const s = new HeadScanner();
    s.push(Buffer.from('{"result":{"content":[{"type":"text","text":"'));
    const piece = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 160; i++) s.push(piece); // 10 MB
    s.push(Buffer.from('"}]},"jsonrpc":"2.0","id":"big"}'));
    expect(s.head).toEqual({ id: 'big', answer: true });
  });
});

describe('event-stream bytes', () => {
  async function read(chunks: string[]) {
    const events: { data: string; fields: string[] }[] = [];
    let data: Buffer[] = [];
    let fields: string[] = [];
    const r = new SseBytes({
      data: (piece, lineStart) => {
        if (lineStart && data.length) data.push(Buffer.from('\n'));
        data.push(Buffer.from(piece));
      },
      field: (name, value) => fields.push(`${name}=${value}`),
      dispatch: () => {
        if (data.length) events.push({ data: Buffer.concat(data).toString(), fields });
        data = [];
        fields = [];
      },
    });
    for (const c of chunks) await r.push(Buffer.from(c));
    return events;
  }

  it('reads fields, comments and multi-line data across any split, with CR, LF or CRLF', async () => {
    const stream = ': keep-alive\r\n\r\nretry: 1500\nid: 7\n\nevent: message\ndata: {"a":\r\ndata:1}\r\rdata: x\n\ndata: cut off';
    const want = [
      { data: '{"a":\n1}', fields: ['event=message'] },
      { data: 'x', fields: [] },
    ];
    expect(await read([stream])).toEqual(want);
    for (let at = 0; at <= stream.length; at++) expect(await read([stream.slice(0, at), stream.slice(at)]), `split at ${at}`).toEqual(want);
  });
});
