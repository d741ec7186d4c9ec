// ESLint with typescript-eslint's type-checked rules. `npm run lint` allows no warnings, and runs `prettier --check`
// first: an unformatted file fails it (`npm run format` fixes it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'logs/**',
      '.nudge/**',
      'scripts/**',
      '.ci/**',
      '.cache/**',
      'eslint.config.mjs',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    // Tests: chai's property assertions (`expect(x).to.be.true`) read as expressions.
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  // Layout is Prettier's (npm run lint checks it first): no ESLint rule may disagree with it.
  prettier,
);
