// The CLI's argv parsing, on node:util parseArgs in strict mode: unknown flags are usage
// errors (exit 2), never ignored. This file only maps its errors to our words.
import { parseArgs as nodeParseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Flags that take a value: --name N or --name=N. */
  values: readonly string[];
  /** Boolean flags. */
  booleans: readonly string[];
  /** Value flags that may be repeated (--header A --header B); collected in `lists`. */
  multiple?: readonly string[];
}

export interface Parsed {
  positionals: string[];
  values: Record<string, string>;
  flags: Set<string>;
  lists: Record<string, string[]>;
}

type NodeOptions = NonNullable<Parameters<typeof nodeParseArgs>[0]>['options'];

export function parseArgs(argv: readonly string[], spec: FlagSpec): Parsed {
  const multiple = new Set(spec.multiple ?? []);
  const options: NodeOptions = { help: { type: 'boolean', short: 'h' } };
  for (const v of new Set([...spec.values, ...multiple])) options[v] = { type: 'string', multiple: multiple.has(v) };
  for (const b of spec.booleans) options[b] = { type: 'boolean' };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(usageMessage(e));
  }
  const out: Parsed = { positionals: parsed.positionals, values: {}, flags: new Set(), lists: {} };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'boolean') {
      if (value) out.flags.add(name);
    } else if (Array.isArray(value)) {
      out.lists[name] = value.map(String);
    } else if (typeof value === 'string') {
      out.values[name] = value;
    }
  }
  return out;
}

/** node:util's messages name its own API ("parseArgs"); ours name the option and the fix. */
function usageMessage(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const opt = /'(-{1,2}[^' ]+)/.exec(err.message ?? '')?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option ${opt ?? ''}.`.replace(' .', '.');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // Both "--name" without a value and "--no-open=x" land here.
      return /argument missing|ambiguous/.test(err.message ?? '')
        ? `Option ${opt ?? ''} needs a value.`
        : `Option ${opt ?? ''} takes no value.`;
    default:
      return err.message ?? String(e);
  }
}
