// `node --import ./test/app/double/register.mjs dist/electron/main.js` runs the built main
// process under Node with `electron` resolved to the double (test only, never shipped).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
