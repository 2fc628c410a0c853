import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { rawHttp } from "./raw-engine-io.js";

/** A readable file whose read fails after open and stat succeed (size 4096): EINVAL on loopback. */
const FAILS_ON_READ = "/sys/class/net/lo/speed";

describe("web console (WEB_ROOT): bad paths are 404, and a file that fails to read never takes the process down", () => {
  let stack: Stack;
  let root: string;
  beforeAll(async () => {
    expect(existsSync(FAILS_ON_READ), `${FAILS_ON_READ} (this test needs Linux sysfs)`).toBe(true);
    root = mkdtempSync(join(tmpdir(), "web-root-"));
    mkdirSync(join(root, "assets"));
    writeFileSync(join(root, "index.html"), "<!doctype html><title>console</title>");
    writeFileSync(join(root, "assets", "app-1234.js"), "console.log(1)");
    symlinkSync(FAILS_ON_READ, join(root, "speed.txt"));
    symlinkSync("/proc/self/mem", join(root, "mem.js")); // a "file" of size 0 whose read fails (EIO)
    symlinkSync(join(root, "removed.css"), join(root, "gone.css")); // dangling: the target was removed
    stack = await startStack({ gateways: 1, workers: 0, gatewayEnv: { WEB_ROOT: root } });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const url = () => stack.gateways[0]?.url ?? "";
  const alive = () => {
    const p = stack.gateways[0]?.child.process;
    return p?.exitCode === null && p.signalCode === null;
  };
  const codeOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

  it("serves files, the app for other paths, and 404 for a missing asset", async () => {
    expect(await rawHttp(url(), "/")).toMatchObject({ status: 200, body: expect.stringContaining("console") });
    expect(await rawHttp(url(), "/tasks/t_1")).toMatchObject({ status: 200, body: expect.stringContaining("console") });
    expect(await rawHttp(url(), "/assets/app-1234.js")).toEqual({ status: 200, body: "console.log(1)" });
    const missing = await rawHttp(url(), "/assets/nope.js");
    expect([missing.status, codeOf(missing.body)]).toEqual([404, "not_found"]);
  });

  it.each(["/%E0%A4%A", "/assets/%E0%A4%A.js", "/%", "/%ZZ/x"])(
    "malformed percent-encoding %s is 404 not_found, unauthenticated",
    async (path) => {
      const res = await rawHttp(url(), path);
      expect([res.status, codeOf(res.body)]).toEqual([404, "not_found"]);
    },
  );

  it.each(["//", "///x", "//host:99999/v1/tasks"])("a path that looks like an authority (%s) is a path, never a 500", async (path) => {
    const res = await rawHttp(url(), path);
    expect(res.status).not.toBe(500);
    expect(res.status === 200 ? res.body : codeOf(res.body)).toMatch(/console|not_found|token_missing/);
  });

  it("a file removed before it is read is 404", async () => {
    const res = await rawHttp(url(), "/gone.css");
    expect([res.status, codeOf(res.body)]).toEqual([404, "not_found"]);
  });

  it("a read that fails after the headers cuts that response short; the process keeps serving", async () => {
    const cut = await rawHttp(url(), "/speed.txt").then(
      (res) => ({ completed: res }),
      (err: Error) => ({ failed: err.message }),
    );
    expect(cut).toHaveProperty("failed"); // the announced 4096 bytes never came
    expect(await rawHttp(url(), "/mem.js")).toEqual({ status: 200, body: "" });
    expect(await rawHttp(url(), "/healthz")).toMatchObject({ status: 200 });
    expect(await rawHttp(url(), "/assets/app-1234.js")).toEqual({ status: 200, body: "console.log(1)" });
    expect(alive()).toBe(true);
    expect(stack.problems().some((line) => line.includes("static file read failed after headers"))).toBe(true);
  });
});
