#!/usr/bin/env node
// The scripted "person at the browser": an HTTP user agent with a cookie jar that follows the
// authorization URL, submits the AS's login, consent and device-code forms, and follows the
// redirect to the app's loopback callback. Usable as $BROWSER (`node person.mjs <url>`) and
// as a module (`approve(url)`). Links to this machine arrive as a file:// redirect page (the app
// never puts them on a command line): it reads the page and follows its redirect, as a browser does.
//   PERSON_DENY=1   press "Deny" on the consent page (or abort the device confirmation)
//   PERSON_LOG=file append each URL it is asked to open (tests check "no browser was opened")
//   PERSON_USER=bob sign in as this user (else the account the page offers: the app's login_hint, or alice)
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAX_STEPS = 30;
const STEP_TIMEOUT_MS = 10_000;

function decode(s) {
  return s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:.-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** Forms on a page: action, method, id and their named inputs. */
function parseForms(html) {
  const forms = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const a = attrs(m[1]);
    const fields = [];
    for (const i of m[2].matchAll(/<input\b([^>]*)>/gi)) {
      const ia = attrs(i[1]);
      if (ia.name) fields.push({ name: ia.name, value: ia.value ?? '', type: (ia.type ?? 'text').toLowerCase() });
    }
    forms.push({ action: a.action ?? '', method: (a.method ?? 'get').toLowerCase(), id: a.id ?? '', fields });
  }
  return forms;
}

class Jar {
  cookies = new Map();
  header(url) {
    const jar = this.cookies.get(new URL(url).host);
    return jar && jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }
  store(url, res) {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map();
    for (const c of res.headers.getSetCookie?.() ?? []) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || /max-age=0/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(host, jar);
  }
}

/** The target of a redirect page given as a file:// URL (meta refresh), or `url` itself. */
export function followPage(url) {
  if (!url.startsWith('file:')) return url;
  const html = readFileSync(fileURLToPath(url), 'utf8');
  const m = /<meta\s+http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"/i.exec(html);
  if (!m) throw new Error(`person: ${url} is not a redirect page`);
  return decode(m[1]);
}

/**
 * Plays the person from `url` until the app's loopback callback (or a page with nothing left to
 * submit). Returns the last URL reached and the final page text.
 */
export async function approve(given, opts = {}) {
  const url = followPage(given);
  const deny = opts.deny ?? Boolean(process.env.PERSON_DENY);
  const user = opts.user ?? process.env.PERSON_USER;
  const jar = new Jar();
  // The app hands the browser a one-shot loopback link that redirects to the real URL, so the
  // device code is read from whichever URL of the way carries it.
  let userCode = new URL(url).searchParams.get('user_code') ?? opts.userCode;
  let next = { url, method: 'GET', body: undefined };
  const submitted = new Set();
  // A browser on a company laptop goes through the proxy too (loopback, in NO_PROXY, does not).
  const env = process.env;
  // ...and trusts what the system's store holds (SSL_CERT_FILE stands for it in tests).
  const ca = env.SSL_CERT_FILE ? [...(await import('node:tls')).rootCertificates, readFileSync(env.SSL_CERT_FILE, 'utf8')] : undefined;
  const proxied = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  const undici = proxied || ca ? await import('undici') : undefined;
  const dispatcher = proxied ? new undici.EnvHttpProxyAgent(ca ? { requestTls: { ca } } : {}) : ca ? new undici.Agent({ connect: { ca } }) : undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    const headers = { 'user-agent': 'rig-person/1' };
    const cookie = jar.header(next.url);
    if (cookie) headers.cookie = cookie;
    if (next.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(next.url, { method: next.method, headers, body: next.body, redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS), ...(dispatcher ? { dispatcher } : {}) });
    jar.store(next.url, res);
    const loc = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && loc) {
      next = { url: new URL(loc, next.url).href, method: 'GET', body: undefined };
      userCode = new URL(next.url).searchParams.get('user_code') ?? userCode;
      continue;
    }
    const text = await res.text();
    const here = new URL(next.url);
    // The app's loopback callback: the flow is over.
    if (here.pathname === '/callback' && here.hostname === '127.0.0.1') return { url: next.url, status: res.status, text };
    const forms = parseForms(text).filter((f) => f.action !== undefined);
    if (!forms.length) return { url: next.url, status: res.status, text };
    let form = forms.find((f) => (deny ? /\/abort$/.test(f.action) : !/\/abort$/.test(f.action))) ?? forms[0];
    const fields = new URLSearchParams();
    for (const f of form.fields) {
      let v = f.value;
      if ((f.name === 'login' || f.name === 'username') && (user || !v)) v = user || 'alice';
      if (f.name === 'user_code' && !v && userCode) v = userCode;
      fields.append(f.name, v);
    }
    // oidc-provider's device confirmation: "abort" is a button value on the same form.
    if (deny && form.id === 'op.deviceConfirmForm') fields.append('abort', 'yes');
    const key = `${form.action}|${fields}`;
    if (submitted.has(key)) return { url: next.url, status: res.status, text };
    submitted.add(key);
    const action = new URL(form.action || next.url, next.url).href;
    next = form.method === 'post' ? { url: action, method: 'POST', body: fields.toString() } : { url: `${action}?${fields}`, method: 'GET', body: undefined };
  }
  throw new Error(`person: gave up after ${MAX_STEPS} steps`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.argv[2];
  if (!url) {
    process.stderr.write('usage: person.mjs <url>\n');
    process.exit(2);
  }
  if (process.env.PERSON_LOG) {
    // What the browser was given, then (for a redirect page) where the page leads.
    appendFileSync(process.env.PERSON_LOG, `${url}\n`);
    if (url.startsWith('file:')) appendFileSync(process.env.PERSON_LOG, `# page leads to ${followPage(url)}\n`);
  }
  approve(url).then(
    (r) => {
      if (process.env.PERSON_LOG) appendFileSync(process.env.PERSON_LOG, `# ended at ${r.url} (${r.status})\n`);
    },
    (err) => {
      if (process.env.PERSON_LOG) appendFileSync(process.env.PERSON_LOG, `# failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
