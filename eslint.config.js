// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/console/dist/', 'artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // The console SPA (docs/console.md): its .ts files are linted here; .vue files are type-checked by vue-tsc.
    files: ['src/console/**/*.ts'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', localStorage: 'readonly', fetch: 'readonly' },
    },
  },
  {
    // CLIs and benchmarks talk to a person on stdout.
    files: ['scripts/**', '**/*.test.ts', 'src/testing/**'],
    rules: { 'no-console': 'off' },
  },
);
