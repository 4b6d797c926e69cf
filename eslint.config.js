import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers (docs/architecture.md), enforced here: each folder lists what it may not import.
// A flat-config rule set in a later block replaces an earlier one, so every block repeats the
// Electron ban through layer().
const NO_ELECTRON = 'Only src-main/electron/ may import electron; put logic in core and inject it.';
const layer = (...patterns) => ['error', {
  paths: [{ name: 'electron', message: NO_ELECTRON }],
  patterns: [{ group: ['/electron/*'], message: NO_ELECTRON }, ...patterns],
}];

const NODE_BUILTINS = { group: ['node:*'], message: 'This layer runs in a browser: no Node built-ins.' };
const MAIN_FROM_RENDERER = { group: ['**/src-main/**'], message: 'The renderer imports only src-shared/ (the typed contract); main is reached through the API.' };
const CONTRACT_FROM_DOMAIN = { group: ['**/src-shared/**'], message: 'Domain code does not import the UI contract; core/api maps domain types to it.' };
const HEAVY_FROM_BRIDGE = {
  group: ['**/core/vault/**', '**/core/oauth/**', '!**/core/oauth/challenge.js', '**/core/manager/**'],
  message: 'The bridge never loads the vault or OAuth code: it asks the broker for tokens (challenge parsing is the one pure exception).',
};

export default tseslint.config(
  { ignores: ['scratch/**', 'dist/**', 'build-tsc/**', 'node_modules/**', 'test-results/**', 'test/lint-fixtures/**', '**/node_modules/**', '.venv/**', 'test/.venv/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', URLSearchParams: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': layer(),
    },
  },
  // Domain code: no UI contract. core/api (the service) and core/app-model (what the glue
  // renders) are the adapters that speak it.
  {
    files: ['src-main/core/**'],
    ignores: ['src-main/core/api/**', 'src-main/core/app-model/**'],
    rules: { 'no-restricted-imports': layer(CONTRACT_FROM_DOMAIN) },
  },
  { files: ['src-main/bridge/**'], rules: { 'no-restricted-imports': layer(HEAVY_FROM_BRIDGE, CONTRACT_FROM_DOMAIN) } },
  { files: ['src-renderer/**'], rules: { 'no-restricted-imports': layer(MAIN_FROM_RENDERER, NODE_BUILTINS) } },
  { files: ['src-shared/**'], rules: { 'no-restricted-imports': layer(NODE_BUILTINS) } },
  {
    files: ['src-main/electron/**', 'src-main/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
