import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.unit.spec.ts', 'src/**/*.unit.spec.ts'],
          // A temporary directory of each test file's own, removed after it: nothing left in /tmp.
          setupFiles: ['tests/support/own-tmpdir.setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.int.spec.ts', 'tests/e2e/**/*.e2e.spec.ts'],
          // One pair of emulators (DynamoDB Local + moto) for the whole run; every test file
          // provisions its own uniquely named resources, so files may run in parallel.
          globalSetup: ['tests/support/emulators.global-setup.ts'],
          setupFiles: ['tests/support/own-tmpdir.setup.ts', 'tests/support/emulators.env.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // src/console/ui runs in the browser: the console's Chromium tests exercise it, V8 in Node cannot see it.
      exclude: ['src/**/*.spec.ts', 'src/console/ui/**'],
      reporter: ['text-summary', 'text', 'json-summary'],
      thresholds: { lines: 95, branches: 90, functions: 95, statements: 95 },
    },
  },
});
