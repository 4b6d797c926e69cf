// Which era a server speaks: this bridge's own session, the era memo (no probe round trip for a
// known server), or server/discover. The modern side is loaded only when it is needed.
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { VERSION } from '../core/platform/version.js';
import { rememberedEra, rememberEra } from './era.js';
import { ProtocolMismatch } from './errors.js';
import type { LegacySession } from './legacy/session.js';
import type { ClientIdentity } from './modern/protocol.js';
import type { ModernHost, ModernSession } from './modern/session.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** How long server/discover may take before the server is taken for a legacy one. */
const PROBE_TIMEOUT_MS = 10_000;

export interface EraHost {
  url: URL;
  serverUrl: string;
  dataDir: string | undefined;
  timeoutMs: number;
  legacy: LegacySession;
  fetch(): FetchLike;
  internalId(): string;
  modernHost(): ModernHost;
  log(level: Level, msg: string): void;
}

export class EraChoice {
  /** The 2026-07-28 side, once server/discover showed a modern server. */
  modern: ModernSession | undefined;
  /** Why the probe took the server for a legacy one: part of the "neither era" message. */
  probeNote: string | undefined;
  private deciding: Promise<'modern' | 'legacy'> | undefined;

  constructor(private readonly h: EraHost) {}

  /** Modern or legacy: from this bridge's own session, from memory, or by asking server/discover. */
  choose(): Promise<'modern' | 'legacy'> {
    if (this.modern) return Promise.resolve('modern');
    if (this.h.legacy.kind) return Promise.resolve('legacy');
    if (!this.deciding) {
      const d = this.decide();
      this.deciding = d;
      const clear = () => {
        if (this.deciding === d) this.deciding = undefined;
      };
      d.then(clear, clear);
    }
    return this.deciding;
  }

  /** The remembered legacy transport failed: forget it, so the next choice probes. */
  forget(): void {
    this.h.legacy.kind = undefined;
    this.h.legacy.kindFromMemory = false;
    rememberEra(this.h.serverUrl, undefined, this.h.dataDir);
  }

  private async decide(): Promise<'modern' | 'legacy'> {
    const origin = this.h.url.origin;
    const remembered = rememberedEra(this.h.serverUrl, this.h.dataDir);
    if (remembered === 'streamable' || remembered === 'sse') {
      this.h.legacy.kind = remembered;
      this.h.legacy.kindFromMemory = true;
      this.h.log('debug', `${origin} is remembered as a legacy server (${remembered === 'sse' ? 'HTTP+SSE' : 'Streamable HTTP'})`);
      return 'legacy';
    }
    const { askEra } = await import('./modern/protocol.js');
    const result = await askEra({
      fetch: this.h.fetch(),
      url: this.h.url,
      identity: this.clientIdentity(),
      timeoutMs: Math.min(this.h.timeoutMs, PROBE_TIMEOUT_MS),
      id: () => this.h.internalId(),
      log: (level, msg) => this.h.log(level, msg),
    });
    if (result.era === 'neither') {
      this.h.log('warn', result.why);
      throw new ProtocolMismatch(result.why);
    }
    if (result.era === 'legacy') {
      this.probeNote = result.why;
      this.h.log('info', `${origin} is not a 2026-07-28 server (${result.why}); using the legacy transports`);
      return 'legacy';
    }
    const { ModernSession } = await import('./modern/session.js');
    this.modern = new ModernSession(this.h.modernHost(), result.version, result.info);
    rememberEra(this.h.serverUrl, 'modern', this.h.dataDir);
    this.h.log('info', `connected to ${origin} (MCP ${result.version}, no session)`);
    return 'modern';
  }

  /** Who the client said it is, for the probe's _meta (ModernSession keeps its own copy). */
  private clientIdentity(): ClientIdentity {
    const params = this.h.legacy.initRequest?.params as { clientInfo?: unknown; capabilities?: unknown } | undefined;
    const info = params?.clientInfo as { name?: unknown; version?: unknown } | undefined;
    return {
      clientInfo: typeof info?.name === 'string' ? { version: typeof info.version === 'string' ? info.version : '', ...(info as object), name: info.name } : { name: 'mcp-tokens-bridge', version: VERSION },
      capabilities: typeof params?.capabilities === 'object' && params.capabilities !== null ? (params.capabilities as Record<string, unknown>) : {},
    };
  }
}
