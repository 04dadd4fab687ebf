// One lint configuration for every workspace. Deliberately not type-aware: `tsc -b` already
// type-checks in `npm run lint`, and syntax-only rules keep eslint fast on two cores.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

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
