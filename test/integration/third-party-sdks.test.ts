// The two official SDKs' own OAuth pieces: a server and a separate AS built from the MCP Python
// SDK's auth components (simple-auth style, with a login form; no refresh tokens), and the
// TypeScript SDK's example server with its demo OAuth provider (no refresh tokens, no
// revocation endpoint). See third-party-suite.ts.
import { startPythonSdk, startTsSdkExample, VERSIONS } from '../rig/third-party/index.js';
import { describeThirdParty, ECHO } from './third-party-suite.js';

describeThirdParty({
  name: `MCP Python SDK ${VERSIONS.mcp} auth (simple-auth style, separate AS with a login form)`,
  start: () => startPythonSdk(),
  person: { PERSON_USER: 'demo_user' },
  refreshes: false,
  revokedAtAs: ['access_token'],
  tool: ECHO,
});
describeThirdParty({
  name: `TypeScript SDK ${VERSIONS.tsSdk} example (simpleStreamableHttp --oauth --oauth-strict)`,
  start: () => startTsSdkExample(),
  refreshes: false,
  revokedAtAs: [],
  tool: { name: 'greet', args: (text) => ({ name: text }), answer: (text) => `Hello, ${text}!` },
});
