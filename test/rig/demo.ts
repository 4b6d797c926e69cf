// `npm run demo`: a local MCP server with its own authorization server, to try linking without
// an account. Sign-in is "alice" with any password; the consent page has Allow and Deny.
import { PROFILES, type ProfileName, startRig } from './index.js';

const profile = (process.argv[2] ?? 'own-as') as ProfileName;
if (!PROFILES.includes(profile)) {
  process.stderr.write(`Unknown profile "${profile}". Choose one of: ${PROFILES.join(', ')}.\n`);
  process.exit(2);
}
const wanted = Number(process.env.DEMO_PORT ?? 8788);
let rig;
try {
  rig = await startRig(profile, { port: wanted });
} catch {
  // The usual port is taken: any free one will do.
  rig = await startRig(profile);
}
process.stdout.write(`Demo MCP server (${profile}) is up at ${rig.mcpUrl}
Its authorization server: ${rig.as.issuer}

Try it:
  npx mcp-tokens link ${rig.mcpUrl}
  npx mcp-tokens list
Then in Claude Desktop's config: { "command": "npx", "args": ["mcp-tokens", "bridge", "${rig.mcpUrl}"] }

Sign in as "alice" (any password). Ctrl-C stops the demo; its grants live only in memory.
`);
const stop = () => {
  void rig.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
