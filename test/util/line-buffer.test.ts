import { describe, expect, it } from 'vitest';
import { BoundedLineBuffer, megabytes } from '../../src/util/line-buffer.js';

/**
 * The framing under both stdio transports: lines in order, and a line over the limit reported in its place (with
 * the id read from its first or last bytes) instead of throwing, which made the SDK close the connection.
 */

function feed(limit: number, chunks: string[]): unknown[] {
  const out: unknown[] = [];
  const buf = new BoundedLineBuffer((m) => out.push(m), limit);
  for (const c of chunks) {
    buf.append(Buffer.from(c));
    for (let m = buf.readMessage(); m; m = buf.readMessage()) out.push(m);
  }
  return out;
}

const req = (id: number | string, pad = '') => JSON.stringify({ method: 'tools/call', params: { name: 't', arguments: { pad } }, jsonrpc: '2.0', id });
/** A line as readMessage returns it. */
const parsed = (line: string) => JSON.parse(line) as unknown;

describe('BoundedLineBuffer', () => {
  it('reads lines split across chunks, and CRLF ends', () => {
    const a = req(1);
    const b = req(2);
    expect(feed(1000, [a.slice(0, 10), a.slice(10) + '\r\n' + b.slice(0, 5), b.slice(5) + '\n'])).toEqual([parsed(a), parsed(b)]);
  });

  it('reports an oversized line in its place, with its id from the end (SDK order) or the start, and reads on', () => {
    const big = 'x'.repeat(500);
    const sdkOrder = req(7, big);
    const idFirst = JSON.stringify({ jsonrpc: '2.0', id: 'eight', method: 'tools/call', params: { arguments: { pad: big } } });
    const response = JSON.stringify({ result: { content: [{ type: 'text', text: big }] }, jsonrpc: '2.0', id: 9 });
    const stream = [req(1), sdkOrder, idFirst, response, req(2)].join('\n') + '\n';
    // Delivered 37 bytes at a time: the oversized lines are skipped across chunk boundaries.
    const chunks = stream.match(/[^]{1,37}/g)!;
    expect(feed(200, chunks)).toEqual([
      parsed(req(1)),
      { bytes: sdkOrder.length, kind: 'request', id: 7 },
      { bytes: idFirst.length, kind: 'request', id: 'eight' },
      { bytes: response.length, kind: 'response', id: 9 },
      parsed(req(2)),
    ]);
  });

  it('does not take an "id" inside params for the message id', () => {
    const big = 'y'.repeat(500);
    const notification = JSON.stringify({ method: 'notifications/x', params: { id: 99, pad: big, tail: { id: 98 } } });
    expect(feed(200, [notification + '\n'])).toEqual([{ bytes: notification.length, kind: 'request' }]);
    const garbage = 'z'.repeat(300);
    expect(feed(200, [garbage + '\n' + req(3) + '\n'])).toEqual([{ bytes: 300, kind: 'unknown' }, parsed(req(3))]);
  });

  it('a line of exactly the limit is read; one byte more is not', () => {
    const line = req(4, 'p'.repeat(100));
    expect(feed(line.length, [line + '\n'])).toEqual([parsed(line)]);
    expect(feed(line.length - 1, [line + '\n'])).toEqual([{ bytes: line.length, kind: 'request', id: 4 }]);
  });

  it('formats sizes as the messages show them', () => {
    expect(megabytes(10 * 1024 * 1024)).toBe('10 MB');
    expect(megabytes(11.3 * 1024 * 1024)).toBe('11.3 MB');
  });
});
