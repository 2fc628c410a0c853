import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own redis-server and gateway/worker processes; on 2 cores, one at a time.
    fileParallelism: false,
  },
});
