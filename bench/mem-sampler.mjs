// Preload for bench/profile.ts (node --import): samples process.memoryUsage every 20 ms and, on
// exit, appends the peaks, a few marks and V8's heap spaces (MB) as one JSON line to $MEMLOG.
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const MB = (b) => Math.round(b / 1e5) / 10;
const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const marks = [];
const t0 = Date.now();
function sample(tag) {
  const m = process.memoryUsage();
  for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
  if (tag) marks.push([tag, Date.now() - t0, MB(m.rss), MB(m.heapTotal), MB(m.heapUsed), MB(m.external)]);
}
setInterval(() => sample(), 20).unref();
for (const ms of [300, 1000, 3000]) setTimeout(() => sample(`t+${ms}ms`), ms).unref();
process.on('exit', () => {
  sample('exit');
  const spaces = getHeapSpaceStatistics().map((s) => [s.space_name, MB(s.space_size), MB(s.space_used_size)]);
  const peakMB = Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, MB(v)]));
  appendFileSync(process.env.MEMLOG || 'mem.jsonl', `${JSON.stringify({ pid: process.pid, argv: process.argv.slice(2, 4), peakMB, marks, spaces })}\n`);
});
