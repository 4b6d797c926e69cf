// The product's version: one source, package.json, inlined by the bundlers at build time.
import pkg from '../../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
