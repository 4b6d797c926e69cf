// UI words. Core's messages are written for the command line ("run the command again",
// "--flow device", "Ctrl-C"); the CLI keeps them. Everything the UI shows passes through here:
// known error codes get a sentence written for a window with buttons, and the original
// technical text is kept as `detail`, which the UI folds behind "Show details".

export interface UiError {
  code: string;
  message: string;
  hint?: string;
  detail?: string;
}

/** A sentence that only makes sense in a terminal. */
const CLI_SENTENCE = /`mcp-tokens\b|\bmcp-tokens (link|refresh|revoke|unlink|daemon|config|bridge)\b|\bRun the command again\b|\bCtrl-C\b|(^|\s)--[a-z][\w-]*|\btray → /i;

/** Splits into sentences, keeping URLs (their dots) whole. */
function sentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+(?=[A-Z`(])/).filter((s) => s.trim());
}

/** Replaces the CLI advice we know with its UI equivalent; drops the other CLI-only sentences. */
export function uiSentences(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const out: string[] = [];
  for (const raw of sentences(text)) {
    const s = raw.trim();
    if (/^Run the command again when you are ready to approve\.?$/i.test(s)) out.push('Try again when you are ready to approve.');
    else if (/^Run the command again to approve\.?$/i.test(s)) out.push('Choose “Try again” to approve it this time.');
    else if (/^Use --flow device\.?$/i.test(s)) out.push('Choose “Device code” as the way to sign in.');
    else if (/^Use --flow browser\.?$/i.test(s)) out.push('Choose “Browser” as the way to sign in.');
    else if (/pass --client-id/i.test(s)) out.push('If the server needs a client ID it gave you, enter it under “Advanced”.');
    else if (/^Link (it|one) (afresh|with)/i.test(s)) out.push('Add the server again.');
    else if (!CLI_SENTENCE.test(s)) out.push(s);
  }
  return out.length ? out.join(' ') : undefined;
}

/** The technical text without the sentences only a terminal can use (it is shown folded, in a window). */
export function withoutCliSentences(text: string): string {
  return text
    .split('\n')
    .map((line) => sentences(line).filter((s) => !CLI_SENTENCE.test(s)).join(' '))
    .filter((l) => l.trim())
    .join('\n');
}

/** The host (and port) a network message names: "Could not reach 127.0.0.1:9/mcp (…)" → "127.0.0.1:9". */
function hostIn(text: string): string | undefined {
  const m = /\b(?:reach|find|from) (?:https?:\/\/)?([^\s/()]+?)(?=[\s/(]|\.(?:\s|$))/.exec(text);
  return m?.[1];
}

/**
 * Three different failures that used to read alike ("check the URL and that the server is up"):
 * nothing listening, no answer in time, a name that does not resolve. Undefined for any other.
 */
export function networkWords(code: string, text: string): { message: string; hint: string } | undefined {
  const host = hostIn(text);
  const at = host ? ` at ${host}` : '';
  if (/\bECONNREFUSED\b/.test(text)) {
    return { message: `Nothing is listening${at}: the server is not running there, or the address or port is wrong.`, hint: 'Check the address. If the server runs on this machine, start it, then try again.' };
  }
  if (/\b(ENOTFOUND|EAI_AGAIN)\b/.test(text) || /^Could not find /.test(text)) {
    return { message: `No server is known by the name ${host ?? 'in this address'}.`, hint: 'Check the spelling of the address, and that this computer is online.' };
  }
  if (code === 'timeout' || /\b(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT)\b/.test(text)) {
    if (/browser|device code/i.test(text)) return undefined;
    return { message: `No answer from ${host ?? 'the server'} in time.`, hint: 'The server may be down or very slow, or a firewall may be in the way. Try again in a moment.' };
  }
  return undefined;
}

const WHY: Record<string, string> = {
  revoked: 'was signed out',
  'more-scope': 'needs more permissions',
  expired: 'has expired',
};

/** The UI's account of an error (code, message and hint as core gave them). */
export function uiError(e: { code: string; message: string; hint?: string }): UiError {
  // Folded "details" are read in the window too: no terminal-only sentences there either.
  const original = withoutCliSentences(e.hint ? `${e.message}\n${e.hint}` : e.message) || e.message;
  const withDetail = (message: string, hint?: string): UiError => ({ code: e.code, message, ...(hint ? { hint } : {}), ...(original !== message ? { detail: original } : {}) });
  switch (e.code) {
    case 'authorization':
      if (/declined the authorization/i.test(e.message)) return withDetail('You declined the sign-in in the browser, so nothing was saved.', 'Choose “Try again” when you want to approve it.');
      break;
    case 'timeout':
      if (/No answer from the browser/i.test(e.message)) return withDetail('The sign-in was not finished in the browser in time, so it was stopped.', 'Choose “Try again” when you are ready to approve.');
      if (/device code was not approved/i.test(e.message)) return withDetail('The code was not entered in time, so the sign-in was stopped.', 'Choose “Try again” for a new code.');
      {
        const w = networkWords(e.code, e.message);
        if (w) return withDetail(w.message, w.hint);
      }
      break;
    case 'needs-reauth': {
      const m = /^Sign-in for '(.+?)' (was revoked|needs more permissions|has expired)/.exec(e.message);
      if (m) {
        const why = m[2] === 'was revoked' ? WHY.revoked : m[2];
        return withDetail(`Sign-in for “${m[1]}” ${why}.`, 'Choose “Sign in again”.');
      }
      break;
    }
    case 'denied':
      return withDetail('The connection was declined here, so the client was not connected.', 'When the client asks again, approve it in this window.');
    case 'not-found':
      if (/^No linked server/.test(e.message)) return withDetail('This server is not in the list any more.', 'It may have been removed in another window or from the command line.');
      break;
    case 'internal':
      return { code: e.code, message: e.message };
    case 'network': {
      const w = networkWords(e.code, e.message);
      if (w) return withDetail(w.message, w.hint);
      break;
    }
  }
  const message = uiSentences(e.message) ?? e.message;
  const hint = uiSentences(e.hint);
  return { code: e.code, message, ...(hint ? { hint } : {}), ...(original !== (hint ? `${message}\n${hint}` : message) ? { detail: original } : {}) };
}

/** A progress line for the UI: no keyboard shortcuts of the terminal; the URL on a line of its own. */
export function uiProgressLine(line: string): string {
  return line
    .replace(/\s*\(Ctrl-C to cancel, times out in (\d+) min\)/, ' (this stops by itself after $1 min)')
    .replace(/^Opening your browser at (.+?)… \(if nothing opens, visit:\s*(\S+)\s*\)$/s, 'Opening your browser at $1… If nothing opens, use this address: $2')
    .replace(/\s*open the URL above yourself\.?/, ' open the address above yourself.');
}
