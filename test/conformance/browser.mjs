#!/usr/bin/env node
// The "person at the browser" for the conformance suite: mcp-tokens runs `$BROWSER <url>`.
// The suite's mock /authorize answers at once with a redirect (no page to fill in), so this
// GETs the URL and follows redirects by hand, including the last one to the 127.0.0.1
// loopback callback, where mcp-tokens receives the code. Bounded in hops and in time. A link to
// this machine arrives as a file:// redirect page (never on a command line): it is read and
// followed first, as a browser does (the rig's person does the same).
import { followPage } from '../rig/person.mjs';

const MAX_HOPS = 10;
const TIMEOUT_MS = 15_000;

const given = process.argv[process.argv.length - 1];
const start = given ? followPage(given) : given;
if (!start || !/^https?:\/\//.test(start)) {
  process.stderr.write('browser.mjs: expected a URL as the last argument\n');
  process.exit(2);
}

const deadline = AbortSignal.timeout(TIMEOUT_MS);
let url = new URL(start);
try {
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const res = await fetch(url, { redirect: 'manual', signal: deadline });
    const location = res.headers.get('location');
    await res.body?.cancel().catch(() => {});
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    // The end of the chain: the loopback's "you can close this window" page, or an AS error page.
    process.exit(res.ok ? 0 : 1);
  }
  process.stderr.write(`browser.mjs: more than ${MAX_HOPS} redirects\n`);
  process.exit(1);
} catch (err) {
  process.stderr.write(`browser.mjs: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
