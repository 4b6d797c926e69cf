// A small, strict argv parser: unknown flags are usage errors (exit 2), never ignored.

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
}

export interface Parsed {
  positionals: string[];
  values: Record<string, string>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): Parsed {
  const out: Parsed = { positionals: [], values: {}, flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      if (a.startsWith('-') && a !== '-') {
        if (a === '-h') {
          out.flags.add('help');
          continue;
        }
        throw new UsageError(`Unknown option ${a}.`);
      }
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (spec.values.includes(name)) {
      const v = eq === -1 ? argv[++i] : a.slice(eq + 1);
      if (v === undefined || (eq === -1 && v.startsWith('--'))) throw new UsageError(`Option --${name} needs a value.`);
      out.values[name] = v;
    } else if (spec.booleans.includes(name)) {
      if (eq !== -1) throw new UsageError(`Option --${name} takes no value.`);
      out.flags.add(name);
    } else {
      throw new UsageError(`Unknown option --${name}.`);
    }
  }
  return out;
}
