#!/usr/bin/env node
// Thin launcher: the real code is the bundled CLI, loaded lazily per command.
import * as nodeModule from 'node:module';

// V8's compile cache (Node >= 22.1) saves re-parsing the bundle at every bridge start; older Node lacks it.
nodeModule.enableCompileCache?.();

import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('mcp-tokens: not built yet; run `npm run build` first.\n');
    process.exit(1);
  }
  throw err;
});
