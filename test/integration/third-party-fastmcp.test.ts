// FastMCP (PyPI) with its in-memory OAuth provider, on Streamable HTTP and on legacy SSE: the
// server is its own AS (DCR, rotating refresh tokens, revocation). See third-party-suite.ts.
import { startFastMcp, VERSIONS } from '../rig/third-party/index.js';
import { describeThirdParty, ECHO, TTL_S } from './third-party-suite.js';

describeThirdParty({ name: `FastMCP ${VERSIONS.fastmcp}, Streamable HTTP`, start: () => startFastMcp('http', { accessTtl: TTL_S }), refreshes: true, revokedAtAs: ['refresh_token', 'access_token'], tool: ECHO });
describeThirdParty({ name: `FastMCP ${VERSIONS.fastmcp}, legacy SSE`, start: () => startFastMcp('sse', { accessTtl: TTL_S }), sse: true, refreshes: true, revokedAtAs: ['refresh_token', 'access_token'], tool: ECHO });
