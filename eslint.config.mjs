import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.sluice/', 'dist/', 'test-output/', 'coverage/', 'test/support/node-environment.js', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  // Layers: contracts/ (what workflows, activities and the CLI share) ← activities/ and workflows/ ← the rest.
  {
    files: ['workflows/**/*.ts', 'contracts/**/*.ts'],
    rules: {
      // Workflow code is replayed: wall-clock time and randomness must come from the SDK.
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval'],
      // Only types may come from activities: their code has side effects and must stay out of the bundle.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', '@duckdb/*', 'onnxruntime-node', '**/activities/*', '**/activities/**'], allowTypeImports: true, message: 'workflows and contracts import activities only as types (import type …)' },
          ],
        },
      ],
    },
  },
  {
    // The bottom layer: what workflows, activities and the CLI share imports nothing of theirs, not even a type.
    files: ['contracts/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/activities/*', '**/activities/**', '**/workflows/*', '**/workflows/**', '**/workers/*', '**/workers/**', '**/scripts/*', '**/scripts/**'],
              message: 'contracts/ is the bottom layer: it imports nothing from activities/, workflows/, workers/ or scripts/; move what it needs into contracts/',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      // Not even types: what activities share with workflows lives in contracts/.
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/workflows/*', '**/workflows/**'], message: 'activities never import from workflows/; move what both need into contracts/' }] }],
    },
  },
);
