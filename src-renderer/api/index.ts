// Picks the host: the Electron preload's bridge when present, else `mcp-tokens ui` over HTTP.
import type { Api } from '../../src-shared/contract.js';
import { createHttpApi } from './http.js';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in the browser host. */
    mcpTokens?: Api;
  }
}

export function chooseApi(w: Pick<Window, 'mcpTokens'> = window): Api {
  // Relative: `mcp-tokens ui` serves the page and its API under a per-session path.
  return w.mcpTokens ?? createHttpApi({ baseUrl: '.' });
}

export { ApiCallError, createHttpApi } from './http.js';
