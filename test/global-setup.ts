// Runs once before any test file: without a browser the browser tests cannot run, so stop
// here with one message instead of failures deep in the run.
import { pathToFileURL } from 'node:url';
import { resolveBrowser } from './e2e/browser.js';

export default function setup(): void {
  const b = resolveBrowser();
  if ('error' in b) {
    process.stderr.write(`\n${b.error}\n\n`);
    process.exit(1);
  }
}

// `npm test` runs this first, before the build, so the message comes before anything else.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) setup();
