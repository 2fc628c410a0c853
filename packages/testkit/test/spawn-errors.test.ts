import { describe, expect, it } from "vitest";
import { startRedisServer } from "../src/index.js";

describe("a launcher whose program is not installed", () => {
  it("rejects with what could not be started (no unhandled spawn error, no stack trace from the child process)", async () => {
    await expect(startRedisServer({ bin: "/nonexistent/redis-server" })).rejects.toThrow(
      /could not start \/nonexistent\/redis-server: spawn \/nonexistent\/redis-server ENOENT/,
    );
  });
});
