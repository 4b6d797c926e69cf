// Per-server headers between the UI and the manager. The UI never receives a stored value (only
// the masked form), so it edits by rows: a typed value replaces, `keep` keeps what is stored.
// The rules are custom-headers.ts's (the CLI's); the words here are for a window.
import type { HeaderEdit, HeaderSummary } from '../../../src-shared/contract.js';
import { headerProblem, maskHeaderValue, MAX_HEADERS, MAX_HEADER_VALUE, type HeaderProblem, type HeaderSpec } from '../platform/custom-headers.js';
import { UserError } from '../platform/errors.js';

const MASK = '•••';

/** Headers for the UI; `hidden` when some literal text was masked. */
export function headerSummaries(list: readonly HeaderSpec[] | undefined): HeaderSummary[] {
  return (list ?? []).map((h) => {
    // The manager's view is masked already; masking is idempotent, so this holds whatever it hands over.
    const value = maskHeaderValue(h.value);
    return { name: h.name, value, hidden: value.includes(MASK) };
  });
}

// A bad name is not echoed: people paste "Name: value" into the name box, value and all.
const PROBLEM_WORDS: Record<HeaderProblem, (name: string, row: number) => [string, string?]> = {
  name: (n, row) =>
    n.includes(':')
      ? [`The name of header ${row} has a colon in it.`, 'Type only the name (such as X-Api-Key) in the name box, and the value in the value box.']
      : [`The name of header ${row} is not a valid header name.`, 'Use letters, digits and dashes only, such as X-Api-Key: no spaces.'],
  'sign-in': (n) => [`The header ${n} cannot be set here: the app sends the sign-in token in it.`, 'If the server wants an API key, it usually names its own header (such as X-Api-Key).'],
  reserved: (n) => [`The header ${n} cannot be set here: the app sets it itself on every request.`],
  value: (n) => [`The value of ${quoted(n)} must be one line of at most ${MAX_HEADER_VALUE} characters.`],
  chars: (n) => [`The value of ${quoted(n)} has characters a header cannot carry.`, 'Use plain text: letters, digits and ASCII punctuation.'],
};

function refuse(message: string, hint?: string): never {
  throw new UserError('usage', message, hint);
}

function quoted(name: string): string {
  return `“${name.length > 60 ? `${name.slice(0, 60)}…` : name}”`;
}

/**
 * The list to store: each edit resolved against the stored headers, checked row by row with the
 * reason in UI words. A masked value can never be stored: the placeholder is refused as a value,
 * and kept rows take the stored value itself.
 */
export function resolveHeaderEdits(edits: readonly HeaderEdit[], stored: readonly HeaderSpec[]): HeaderSpec[] {
  if (edits.length > MAX_HEADERS) refuse(`A server can have at most ${MAX_HEADERS} headers; this list has ${edits.length}.`, 'Remove the ones it does not need.');
  const byName = new Map(stored.map((h) => [h.name.toLowerCase(), h]));
  const seen = new Set<string>();
  return edits.map((e, i) => {
    const name = e.name.trim();
    if (!name) refuse(`Header ${i + 1} has no name.`, 'Type a name such as X-Api-Key, or remove the row.');
    // The name first (an empty value passes every value rule), so no message echoes a bad name.
    const nameProblem = headerProblem({ name, value: '' });
    if (nameProblem) refuse(...PROBLEM_WORDS[nameProblem](name, i + 1));
    let value: string;
    if ('keep' in e) {
      const from = byName.get((e.from ?? name).toLowerCase());
      if (!from) refuse(`The saved value of ${quoted(e.from ?? name)} is not there any more (it was changed elsewhere).`, 'Type its value again, or close the editor to see the headers as they are now.');
      value = from.value;
    } else {
      value = e.value.trim();
      if (value.includes(MASK)) refuse(`The value of ${quoted(name)} is the hidden placeholder (${MASK}), not a value.`, 'Leave the value empty to keep the saved one, or type the new value.');
      if (!value) refuse(`Type a value for ${quoted(name)}, or remove the row.`);
    }
    const h = { name, value };
    const problem = headerProblem(h);
    if (problem) refuse(...PROBLEM_WORDS[problem](name, i + 1));
    const k = name.toLowerCase();
    if (seen.has(k)) refuse(`The header ${name} is listed twice.`, 'Keep one row per header (names are not case-sensitive).');
    seen.add(k);
    return h;
  });
}
