import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: it may import only the workflow SDK,
// @temporalio/common and src/shared; everything else (activities included) by `import type`.
const workflowBoundary = {
  files: ['src/gate/workflow/**/*.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: '^(?!@temporalio/(workflow|common)(/|$)|\\.\\./\\.\\./shared/|\\./)',
            message: 'Workflows may import only @temporalio/workflow, @temporalio/common and src/shared (use `import type` for the rest).',
            allowTypeImports: true,
          },
          {
            regex: '^\\.\\./(?!\\.\\./shared/)',
            message: 'Workflows may import only src/shared at run time; activities come in by `import type`.',
            allowTypeImports: true,
          },
        ],
        paths: ['pg', 'express', 'zod', 'pino', 'fs', 'path', 'os', 'crypto', 'http', 'https', 'child_process'].map((name) => ({
          name,
          message: 'Not allowed in workflow code (non-deterministic or Node-only).',
          allowTypeImports: true,
        })),
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'coverage/', 'test-artifacts/', 'scripts/*.js', 'jest.config.js', 'test/support/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Contexts sit below the HTTP API: only src/api composes routes and services into the app.
    files: ['src/**/*.ts'],
    ignores: ['src/api/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+api(/|$)', message: 'Only src/api may import src/api: move what you need into its context or platform.' }] },
      ],
    },
  },
  workflowBoundary,
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!@temporalio/(workflow|common)(/|$)|\\./)', message: 'src/shared is dependency-free (workflow-safe).' }] },
      ],
    },
  },
);
