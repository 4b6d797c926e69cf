import { describe, expect, it } from 'vitest';
import { bridgeEntry } from '../../src-main/core/clients/index.js';

describe("the app's own bridge in client configs", () => {
  const appLauncher = { command: '/Applications/MCP Token Manager.app/Contents/MacOS/MCP Token Manager', args: ['/x/app.asar.unpacked/dist/electron/mcp-tokens.mjs'], env: { ELECTRON_RUN_AS_NODE: '1' } };
  it('runs the bundled bridge with the app binary as Node, so no global Node is needed', () => {
    expect(bridgeEntry('claude', 'linear', appLauncher)).toEqual({ command: appLauncher.command, args: [...appLauncher.args, 'bridge', 'linear'], env: { ELECTRON_RUN_AS_NODE: '1' } });
    expect(bridgeEntry('vscode', 'linear', appLauncher)).toMatchObject({ type: 'stdio', env: { ELECTRON_RUN_AS_NODE: '1' } });
  });
  it('uses npx, without env, by default', () => {
    expect(bridgeEntry('claude', 'linear')).toEqual({ command: 'npx', args: ['mcp-tokens', 'bridge', 'linear'] });
  });
});
