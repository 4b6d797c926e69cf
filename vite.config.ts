// Builds the React renderer. Relative asset paths so the same files load from the Electron
// app (file://) and from `mcp-tokens ui` (http://127.0.0.1:<port>/).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome120',
    // One JS and one CSS file: nothing inline, so the strict CSP in index.html holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
