import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { environment: "jsdom", include: ["src/**/*.test.ts", "test/**/*.test.tsx"], testTimeout: 60_000, hookTimeout: 60_000 },
});
