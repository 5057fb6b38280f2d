// @ts-check
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'build/', '.temporal/', '.deploy-tools/', 'share/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Workflows run in Temporal's deterministic sandbox: no Node built-ins, no I/O, and activities
    // only as types (their code runs on workers, never inside a workflow).
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins.' })),
          patterns: [
            { group: ['**/activities', '**/activities/*'], allowTypeImports: true, message: 'Import activities with `import type` only.' },
            { group: ['**/shared/config', '**/shared/log', '**/shared/temporal', '**/shared/dev-server', '**/shared/share'], message: 'No config, logging or I/O in workflows.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'No environment in workflows.' }],
    },
  },
  {
    // Workflow code runs in the workflow sandbox only; what others share with it (the update,
    // query and signal definitions, types) lives in src/shared.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    ignores: ['src/workflows/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/workflows', '**/workflows/*'], allowTypeImports: true, message: 'Only types from src/workflows: shared definitions belong in src/shared.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
