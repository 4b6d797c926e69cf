// Test-side access to what the product stored, and a real MCP call with it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { openHeadlessCipher } from '../../src-main/core/vault/cipher.js';
import { nodeFileSystem } from '../../src-main/core/vault/fs.js';
import { systemClock } from '../../src-main/core/platform/services.js';
import type { VaultData } from '../../src-main/core/types.js';
import { Vault } from '../../src-main/core/vault/vault.js';

export async function openVault(home: string): Promise<Vault> {
  const cipher = await openHeadlessCipher({ home, fs: nodeFileSystem, env: { MCP_TOKENS_KEYRING: 'off' } });
  return Vault.open({ home, fs: nodeFileSystem, cipher, clock: systemClock });
}

export async function readVault(home: string): Promise<VaultData> {
  return (await openVault(home)).read();
}

/** Calls a tool on the rig's MCP server with a bearer token, over the server's transport. */
export async function callTool(url: string, token: string, name: string, args: Record<string, unknown> = {}, sse = false): Promise<string> {
  const requestInit = { headers: { Authorization: `Bearer ${token}` } };
  const transport = sse ? new SSEClientTransport(new URL(url), { requestInit }) : new StreamableHTTPClientTransport(new URL(url), { requestInit });
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const r = await client.callTool({ name, arguments: args });
    const content = r.content as Array<{ type: string; text?: string }>;
    if (r.isError) throw new Error(`tool error: ${content[0]?.text}`);
    return content.map((c) => c.text ?? '').join('');
  } finally {
    await client.close();
  }
}
