// Where each MCP client keeps its config, as pure functions of (env, platform), so tests
// point HOME/APPDATA at a temp dir and every platform's branch runs on any machine.
import { CLIENT_KINDS, CLIENTS, descriptor, homeDir, pathContext, type ClientKind } from './descriptors.js';

export { CLIENT_KINDS, homeDir, type ClientKind };

export type ClientName = string;

export const CLIENT_NAMES: Record<ClientKind, ClientName> = Object.fromEntries(CLIENTS.map((d) => [d.kind, d.name])) as Record<ClientKind, ClientName>;

export interface ClientFileLocation {
  kind: ClientKind;
  client: ClientName;
  scope: 'user' | 'project';
  path: string;
}

export interface LocationOptions {
  platform?: NodeJS.Platform;
  /** A project directory whose `.cursor/mcp.json`, `.vscode/mcp.json`, `.mcp.json` … count too. */
  projectDir?: string;
}

/** The file `config <kind> --write` edits when no --file is given (user scope). */
export function defaultConfigPath(kind: ClientKind, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  return descriptor(kind).file(pathContext(env, platform));
}

/** Every config file worth scanning (migrate, "who uses the bridge"), whether it exists or not. */
export function clientConfigLocations(env: NodeJS.ProcessEnv, opts: LocationOptions = {}): ClientFileLocation[] {
  const platform = opts.platform ?? process.platform;
  const c = pathContext(env, platform);
  const out: ClientFileLocation[] = CLIENTS.map((d) => ({ kind: d.kind, client: d.name, scope: 'user' as const, path: d.file(c) }));
  if (opts.projectDir !== undefined) {
    const dir = c.p.resolve(opts.projectDir);
    for (const d of CLIENTS) for (const rel of d.project ?? []) out.push({ kind: d.kind, client: d.name, scope: 'project', path: c.p.join(dir, ...rel) });
  }
  // One file seen once, even when two rules name it (e.g. the project dir is HOME).
  const seen = new Set<string>();
  return out.filter((l) => (seen.has(l.path) ? false : (seen.add(l.path), true)));
}
