import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/tools/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real MCP servers; two cores are shared between them.
    maxWorkers: 2,
    reporters: ['default'],
    globalSetup: ['test/global-temp-check.ts'],
  },
});
