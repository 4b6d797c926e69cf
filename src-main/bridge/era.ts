// Which era (and legacy transport) a server speaks, remembered per server URL: the spec calls it
// "a property of the server, not of an individual request". Kept in-process, and optionally in a
// small file under the data dir so a restarted bridge skips the probes; a wrong entry is only a
// hint: the bridge re-probes when it fails.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Era = 'modern' | 'streamable' | 'sse';

const ERAS = new Set<Era>(['modern', 'streamable', 'sse']);
const FILE = 'bridge-eras.json';
const memory = new Map<string, Era>();

interface EraFile {
  version: 1;
  servers: Record<string, { era: Era; checkedAt: string }>;
}

function readFile(dir: string): EraFile | undefined {
  const path = join(dir, FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as EraFile;
    if (v && v.version === 1 && typeof v.servers === 'object' && v.servers !== null) return v;
  } catch {
    // fall through
  }
  // Kept aside, never silently replaced (DESIGN: Data).
  try {
    renameSync(path, `${path}.unreadable-${Date.now()}`);
  } catch {
    // someone else moved it
  }
  return undefined;
}

export function rememberedEra(serverUrl: string, dataDir?: string): Era | undefined {
  const known = memory.get(serverUrl);
  if (known || !dataDir) return known;
  const entry = readFile(dataDir)?.servers[serverUrl];
  if (entry && ERAS.has(entry.era)) {
    memory.set(serverUrl, entry.era);
    return entry.era;
  }
  return undefined;
}

export function rememberEra(serverUrl: string, era: Era | undefined, dataDir?: string): void {
  if (era) memory.set(serverUrl, era);
  else memory.delete(serverUrl);
  if (!dataDir) return;
  try {
    const current = readFile(dataDir) ?? { version: 1, servers: {} };
    if (era) current.servers[serverUrl] = { era, checkedAt: new Date().toISOString() };
    else delete current.servers[serverUrl];
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const path = join(dataDir, FILE);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(current, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // a cache: losing it costs one probe
  }
}

/** Forgets everything learned in this process (tests). */
export function forgetEras(): void {
  memory.clear();
}
