// The server's tools and their x-mcp-header annotations: which tools the client may see, and
// the headers a tools/call carries. Read from every tools/list answer, or fetched page by page
// before a call to a tool not seen yet.
import { isObject, type Answer } from './protocol.js';
import { toolHeaders, type ToolHeaders } from './headers.js';

const MAX_LIST_PAGES = 100;

export interface ToolSource {
  origin: string;
  /** One tools/list page. */
  list(cursor: string | undefined): Promise<Answer>;
  warn(msg: string): void;
}

export class ToolTable {
  private readonly tools = new Map<string, ToolHeaders>();
  private complete = false;
  private loading: Promise<void> | undefined;

  constructor(private readonly src: ToolSource) {}

  get(name: string): ToolHeaders | undefined {
    return this.tools.get(name);
  }

  /** The list changed at the server: read it again before the next call to an unknown tool. */
  stale(): void {
    this.complete = false;
  }

  /** Keeps the tools whose annotations are valid, remembering each one's headers. */
  keepValid(tools: unknown, complete: boolean): unknown {
    if (!Array.isArray(tools)) return tools;
    const kept = tools.filter((t) => {
      if (!isObject(t) || typeof t.name !== 'string') return true;
      const h = toolHeaders(t.inputSchema);
      this.tools.set(t.name, h);
      if (!h.ok) this.src.warn(`left out tool '${t.name}' from ${this.src.origin}: ${h.reason}`);
      return h.ok;
    });
    if (complete) this.complete = true;
    return kept;
  }

  /** Makes sure the tool's header annotations are known before it is called. */
  async know(name: string): Promise<void> {
    if (this.tools.has(name) || this.complete) return;
    await this.load();
  }

  /** Reads the whole list (once for all callers at a time). */
  load(): Promise<void> {
    this.loading ??= (async () => {
      try {
        let cursor: string | undefined;
        for (let page = 0; page < MAX_LIST_PAGES; page++) {
          const a = await this.src.list(cursor);
          if ('error' in a) {
            this.src.warn(`could not read the tool list of ${this.src.origin}: ${a.error.message}`);
            return;
          }
          this.keepValid(a.result.tools, false);
          cursor = typeof a.result.nextCursor === 'string' ? a.result.nextCursor : undefined;
          if (!cursor) break;
        }
        this.complete = true;
      } catch (err) {
        this.src.warn(`could not read the tool list of ${this.src.origin}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
