import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.sluice/', 'dist/', 'test-output/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      // Workflow code is replayed: wall-clock time and randomness must come from the SDK.
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval'],
      'no-restricted-imports': ['error', { patterns: ['fs', 'node:*', '@duckdb/*', 'onnxruntime-node', '../activities/*[!.]'] }],
    },
  },
);
