import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_JWT_SECRET } from "../src/index.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PACKAGES = {
  "@agentcast/protocol": "packages/protocol",
  "@agentcast/run-check": "packages/run-check",
  "@agentcast/client": "packages/client",
  "@agentcast/testkit": "packages/testkit",
  "@agentcast/cli": "apps/cli",
} as const;
const PUBLISHABLE = { ...PACKAGES, "@agentcast/react": "packages/react" };

type Manifest = {
  name: string;
  private?: boolean;
  license?: string;
  types?: string;
  files?: string[];
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const manifest = (dir: string) => JSON.parse(readFileSync(join(repo, dir, "package.json"), "utf8")) as Manifest;

/** Child env without the npm_* variables of the npm/npx running this test (they would redirect a nested npm). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
  // This Node first on PATH: the bins' `#!/usr/bin/env node` and npm's engine checks use it. HOME too:
  // turbo runs tasks with a filtered environment, and an npm without HOME has no cache and downloads everything.
  return { ...env, HOME: process.env.HOME ?? homedir(), PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", fail);
    child.on("exit", (code) => done({ code, stdout, stderr }));
  });
}

/** npm through this Node (npm's own CLI when run via npm/npx, else `npm` on PATH). */
function npm(args: string[], cwd: string) {
  const cli = process.env.npm_execpath;
  return cli?.endsWith(".js") ? run(process.execPath, [cli, ...args], cwd) : run("npm", args, cwd);
}

/** Bare module specifiers imported by the built JS of a package. */
function importsOf(dir: string): Set<string> {
  const found = new Set<string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.m?js$/.test(name))
        for (const m of readFileSync(path, "utf8").matchAll(/(?:from\s*|import\s*\(?\s*)["']([^"'.][^"']*)["']/g)) {
          const spec = m[1] as string;
          found.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string));
        }
    }
  };
  for (const sub of ["dist", "bin"]) if (readdirSync(join(repo, dir)).includes(sub)) walk(join(repo, dir, sub));
  return found;
}

type NpmTree = { path?: string; dependencies?: Record<string, NpmTree> };

/** Every package (name → installed path) in `name`'s dependency tree, from `npm ls --all --long --json`. */
function closureOf(tree: NpmTree, name: string): Map<string, string> {
  const found = new Map<string, string>();
  const byName = new Map<string, string>();
  const index = (t: NpmTree) => {
    for (const [n, sub] of Object.entries(t.dependencies ?? {})) {
      if (sub.path && !byName.has(n)) byName.set(n, sub.path);
      index(sub);
    }
  };
  index(tree);
  const walk = (n: string, t: NpmTree | undefined) => {
    if (found.has(n)) return;
    found.set(n, t?.path ?? byName.get(n) ?? "");
    for (const [child, sub] of Object.entries(t?.dependencies ?? {})) walk(child, sub);
  };
  walk(name, tree.dependencies?.[name]);
  return found;
}

/** Files under `dir` (not following nested node_modules: those are packages of their own) whose text contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        if (name !== "node_modules") walk(path);
      } else if (readFileSync(path, "utf8").includes(needle)) hits.push(path);
    }
  };
  walk(dir);
  return hits;
}

describe("the publishable packages install and work outside the repository", () => {
  const work = mkdtempSync(join(tmpdir(), "agentcast-pack-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("manifests: public, exports/types/files/license, every imported package declared", () => {
    const builtins = new Set(builtinModules);
    for (const [name, dir] of Object.entries(PUBLISHABLE)) {
      const m = manifest(dir);
      expect(m.name).toBe(name);
      expect(m.private, `${name} must not be private`).toBeUndefined();
      expect(m.license).toBe("MIT");
      expect(m.types).toBe("./dist/index.d.ts");
      expect(m.exports?.["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
      expect(m.files).toContain("dist");
      expect(m.scripts?.prepack).toBe("npm run build");
      const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
      const undeclared = [...importsOf(dir)].filter((s) => !s.startsWith("node:") && !builtins.has(s) && !declared.has(s));
      expect(undeclared, `${name} imports packages it does not declare`).toEqual([]);
    }
    expect(manifest("apps/cli").bin).toEqual({ agentcast: "./bin/agentcast.mjs" });
    expect(manifest("apps/cli").files).toEqual(expect.arrayContaining(["dist", "bin"]));
  });

  it("npm pack → npm install in a fresh project → import from plain Node ESM, typecheck, run the agentcast bin", async () => {
    const tarballs = join(work, "tarballs");
    mkdirSync(tarballs);
    // prepack builds each package, so the tarballs hold a fresh dist.
    const packed = await npm(
      ["pack", "--json", "--pack-destination", tarballs, ...Object.values(PACKAGES).flatMap((d) => ["-w", d])],
      repo,
    );
    expect(packed.code, packed.stderr).toBe(0);
    const entries = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as {
      name: string;
      filename: string;
      files: { path: string }[];
    }[];
    const files = Object.fromEntries(entries.map((e) => [e.name, e.files.map((f) => f.path)]));
    expect(files["@agentcast/client"]).toEqual(expect.arrayContaining(["dist/index.js", "dist/index.d.ts", "package.json"]));
    expect(files["@agentcast/testkit"]).toEqual(expect.arrayContaining(["dist/index.js", "dist/stack/entries.js"]));
    expect(files["@agentcast/cli"]).toEqual(expect.arrayContaining(["bin/agentcast.mjs", "dist/main.js", "dist/index.d.ts", "README.md"]));
    for (const list of Object.values(files)) expect(list.filter((f) => f.startsWith("src/") || f.startsWith("test/"))).toEqual([]);

    const project = join(work, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    const installed = await npm(
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        ...entries.map((e) => join(tarballs, e.filename)),
        `@types/node@${process.versions.node.split(".")[0]}`,
      ],
      project,
    );
    expect(installed.code, installed.stderr).toBe(0);

    writeFileSync(
      join(project, "check.mjs"),
      [
        'import { createClient } from "@agentcast/client";',
        'import { EVENT_TYPES } from "@agentcast/protocol";',
        'import { validateRun, startLocalStack } from "@agentcast/testkit";',
        'import { probe, EXIT } from "@agentcast/cli";',
        "console.log(JSON.stringify({ createClient: typeof createClient, events: EVENT_TYPES.length, validateRun: typeof validateRun,",
        "  startLocalStack: typeof startLocalStack, probe: typeof probe, invalidRun: EXIT.invalidRun }));",
      ].join("\n"),
    );
    const esm = await run(process.execPath, ["check.mjs"], project);
    expect(esm.code, esm.stderr).toBe(0);
    expect(JSON.parse(esm.stdout)).toEqual({
      createClient: "function",
      events: expect.any(Number),
      validateRun: "function",
      startLocalStack: "function",
      probe: "function",
      invalidRun: 5,
    });

    // The published types resolve for a TypeScript consumer (node16 resolution, strict, no skipLibCheck).
    writeFileSync(
      join(project, "check.ts"),
      [
        'import { type ClientOptions, createClient } from "@agentcast/client";',
        'import { type RunReport, validateRun } from "@agentcast/testkit";',
        'import { type ProbeOptions, probe } from "@agentcast/cli";',
        'const options: ClientOptions = { url: "http://127.0.0.1:1", token: "t" };',
        "const report: RunReport = validateRun([]);",
        "export const used: [unknown, ClientOptions, RunReport, (o: ProbeOptions) => unknown] = [createClient, options, report, probe];",
      ].join("\n"),
    );
    const tsc = join(repo, "node_modules/typescript/bin/tsc");
    const typed = await run(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2023",
        "--lib",
        "es2023,dom,esnext.disposable",
        "check.ts",
      ],
      project,
    );
    expect(typed.stdout + typed.stderr).toBe("");
    expect(typed.code).toBe(0);

    const help = await run(join(project, "node_modules/.bin/agentcast"), ["--help"], project);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("agentcast probe <url> --token <jwt>");
    const usage = await run(join(project, "node_modules/.bin/agentcast"), ["probe"], project);
    expect(usage.code).toBe(1); // the installed bin runs the real CLI: a usage error is exit 1

    // The published CLI ships no test tooling: no testkit (dev JWT secret, Redis launcher, TCP balancer)
    // anywhere in its installed dependency tree, and the dev secret in none of its installed files.
    const listed = await npm(["ls", "--all", "--long", "--json"], project);
    const tree = JSON.parse(listed.stdout) as NpmTree;
    const cliTree = closureOf(tree, "@agentcast/cli");
    expect([...cliTree.keys()].filter((n) => n.startsWith("@agentcast/"))).not.toContain("@agentcast/testkit");
    expect([...cliTree.keys()]).toEqual(
      expect.arrayContaining(["@agentcast/cli", "@agentcast/client", "@agentcast/protocol", "@agentcast/run-check"]),
    );
    const secretIn = (paths: Iterable<string>) => [...paths].flatMap((p) => filesContaining(p, DEV_JWT_SECRET));
    expect(secretIn([join(project, "node_modules/@agentcast/testkit")]).length).toBeGreaterThan(0); // the search does find it
    expect(secretIn(cliTree.values())).toEqual([]);
  }, 120_000);
});
