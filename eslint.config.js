// One lint configuration for every workspace. Deliberately not type-aware: `tsc -b` already
// type-checks in `npm run lint`, and syntax-only rules keep eslint fast on two cores.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    '.tools/',
    'data/',
    '**/dist/',
    'web/dist/',
    'coverage/',
    'test-results/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // web/public/boot.js: a classic script the page runs before the app (the browser's globals it uses).
    files: ['web/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(['console', 'document', 'localStorage', 'location', 'matchMedia', 'PerformanceObserver', 'setTimeout'].map((name) => [name, 'readonly'])),
    },
  },
  {
    // The web app (web/src/**/*.tsx) runs in browsers; everything else in Node.
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } },
    // The two classic hook rules; the React Compiler rules of `recommended` assume the compiler.
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    rules: {
      // STYLE.md: no empty `catch {}` — catch where you can act, or let it reach the boundary.
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
);
