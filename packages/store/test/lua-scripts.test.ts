// Every Lua script lives in lua/<name>-<numberOfKeys>.lua (or -n.lua: a variable number) with a header that names its KEYS, ARGV and
// outputs; one loader defines them all. This pins the layout and loads each script into a real Redis.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LUA_DIR, LUA_SCRIPT_FILES, luaScripts, withLuaScripts } from "../src/lua-scripts.js";

const dir = fileURLToPath(LUA_DIR);
const indices = (text: string, name: "KEYS" | "ARGV") =>
  [...new Set([...text.matchAll(new RegExp(`${name}\\[(\\d+)\\]`, "g"))].map((m) => Number(m[1])))].sort((a, b) => a - b);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const packageDir = dirname(dir);

/** npm through this Node (npm's own CLI when run via npm/npx), without the npm_* variables of the npm running this test. */
function npm(args: string[], cwd: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
  const cli = process.env.npm_execpath;
  const res = cli?.endsWith(".js")
    ? spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: "utf8" })
    : spawnSync("npm", args, { cwd, env, encoding: "utf8" });
  expect(res.status, res.stderr).toBe(0);
  return res.stdout;
}

describe("lua/*.lua", () => {
  let server: RedisServerHandle;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.[Symbol.asyncDispose]();
  });

  it("every file is registered by the loader, and every registered file exists", () => {
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith(".lua"))
        .sort(),
    ).toEqual(Object.values(LUA_SCRIPT_FILES).sort());
  });

  it.each(Object.entries(LUA_SCRIPT_FILES))(
    "%s (%s): its header names exactly the KEYS of its file name, and every ARGV it reads",
    (_, file) => {
      const text = readFileSync(`${dir}/${file}`, "utf8");
      const opening = /^--\[\[\n([\s\S]*?)\n\]\]\n/.exec(text);
      const header = opening?.[1];
      expect(header, `${file} opens with a --[[ ... ]] header`).toBeDefined();
      const body = text.slice(opening?.[0].length);
      const count = /-(\d+|n)\.lua$/.exec(file)?.[1];
      if (count === "n") {
        // A variable number of keys, in groups: the header names a group's keys k1.. and arguments a1..,
        // and the body reads them at an offset (KEYS[k + n], ARGV[a + n]) within those.
        const named = (prefix: string) =>
          [...(header as string).matchAll(new RegExp(`\\n {4}${prefix}(\\d+) `, "g"))].map((m) => Number(m[1]));
        const read = (name: string, at: string) =>
          [...new Set([...body.matchAll(new RegExp(`${name}\\[${at} \\+ (\\d+)\\]`, "g"))].map((m) => Number(m[1])))].sort((x, y) => x - y);
        expect(named("k").length).toBeGreaterThan(0);
        expect(named("k")).toEqual(oneTo(named("k").length));
        expect(named("a")).toEqual(oneTo(named("a").length));
        expect(read("KEYS", "k")).toEqual(named("k"));
        expect(read("ARGV", "a").every((n) => named("a").includes(n))).toBe(true);
        expect(indices(body, "KEYS")).toEqual([]);
        expect(indices(body, "ARGV")).toEqual([]);
      } else {
        const keyCount = Number(count);
        expect(indices(header as string, "KEYS")).toEqual(oneTo(keyCount));
        expect(indices(body, "KEYS").every((k) => k <= keyCount)).toBe(true);
        const argv = indices(header as string, "ARGV");
        expect(argv).toEqual(oneTo(argv.length));
        expect(indices(body, "ARGV").every((a) => argv.includes(a))).toBe(true);
      }
      expect(header).toMatch(/\n {2}Input:\n/);
      expect(header).toMatch(/\n {2}Output:\n/);
    },
  );

  it("every script compiles in a real Redis, and a defined command runs after SCRIPT FLUSH (EVALSHA falls back to EVAL)", async () => {
    for (const { file, lua } of luaScripts()) {
      expect(await redis.script("LOAD", lua), file).toMatch(/^[0-9a-f]{40}$/);
    }
    const scripted = withLuaScripts(redis);
    expect(withLuaScripts(redis)).toBe(scripted); // idempotent
    await redis.script("FLUSH");
    expect(await scripted.acAbandonRun("lua-test:{t}:task", "r1")).toBe(0);
    expect(await scripted.acOpenConnection("lua-test:user:{u}:connections", Date.now(), 1_000, 1, "c1")).toBe(1);
    expect(await scripted.acOpenConnection("lua-test:user:{u}:connections", Date.now(), 1_000, 1, "c2")).toBe(0);
  });

  it("the scripts ship with the package and load from its dist/ once installed elsewhere (npm pack)", async () => {
    const work = mkdtempSync(join(tmpdir(), "agentcast-store-pack-"));
    try {
      const [packed] = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", work], packageDir)) as {
        filename: string;
        files: { path: string }[];
      }[];
      const files = (packed?.files ?? []).map((f) => f.path);
      expect(files).toEqual(expect.arrayContaining(Object.values(LUA_SCRIPT_FILES).map((f) => `lua/${f}`)));
      expect(files).toContain("dist/lua-scripts.js");
      const untar = spawnSync("tar", ["-xzf", join(work, packed?.filename ?? ""), "-C", work], { encoding: "utf8" });
      expect(untar.status, untar.stderr).toBe(0);
      const installed = (await import(
        pathToFileURL(join(work, "package/dist/lua-scripts.js")).href
      )) as typeof import("../src/lua-scripts.js");
      expect(fileURLToPath(installed.LUA_DIR)).toBe(join(work, "package/lua/"));
      expect(installed.luaScripts().map(({ file, lua }) => [file, lua])).toEqual(luaScripts().map(({ file, lua }) => [file, lua]));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
