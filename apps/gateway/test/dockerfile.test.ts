// The Dockerfile, parsed: stages, install from the lockfile, production deps only, non-root, health checks.
import { readdirSync } from "node:fs";
import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import { GATEWAY_ENTRY, WORKER_ENTRY } from "@agentcast/testkit";
import { describe, expect, it } from "vitest";
import { effectiveConfig, exists, GATEWAY_ENV, read, root } from "./deploy/files.js";

// ---------------------------------------------------------------- Dockerfile

interface Stage {
  name: string;
  from: string;
  instructions: { op: string; args: string }[];
}

/** Instructions by stage; continuation lines joined, comments dropped. */
function dockerfileStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = "", args = ""] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === "FROM") {
      const [, from = "", name = ""] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name, from, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

describe("Dockerfile", () => {
  const text = read("Dockerfile");
  const stages = dockerfileStages(text);
  const stage = (name: string) => {
    const s = stages.find((x) => x.name === name);
    if (!s) throw new Error(`no stage ${name}`);
    return s;
  };
  /** The instructions in effect for a stage: its parents' (within this file), then its own. */
  const lineage = (name: string): Stage["instructions"] => {
    const s = stage(name);
    const parent = stages.find((x) => x.name === s.from);
    return [...(parent ? lineage(parent.name) : []), ...s.instructions];
  };
  const last = (name: string, op: string) =>
    lineage(name)
      .filter((i) => i.op === op)
      .at(-1)?.args;

  it("builds on node:24 and has gateway and worker targets on a shared runtime stage", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "runtime", "gateway", "worker"]);
    for (const s of stages.filter((x) => !stages.some((y) => y.name === x.from))) expect(s.from, s.name).toMatch(/^node:24[.-]/);
    expect(stage("gateway").from).toBe("runtime");
    expect(stage("worker").from).toBe("runtime");
  });

  it("installs from the committed lockfile with npm install (npm ci refuses it), builds both apps, keeps production deps", () => {
    const runs = stage("build")
      .instructions.filter((i) => i.op === "RUN")
      .map((i) => i.args);
    expect(runs.join("\n")).not.toMatch(/\bnpm ci\b/);
    expect(text).toMatch(/# Not `npm ci`: it refuses this lockfile/);
    expect(runs[0]).toMatch(/^npm install\b/);
    expect(runs.find((r) => r.includes("turbo run build"))).toMatch(/--filter=@agentcast\/gateway\.\.\. --filter=@agentcast\/worker\.\.\./);
    expect(runs.join("\n")).toMatch(/npm prune --omit=dev/);
    // Every COPY source of the build stage exists.
    for (const copy of stage("build").instructions.filter((i) => i.op === "COPY")) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const src of sources) expect(exists(src), src).toBe(true);
    }
  });

  it("removes only workspaces that neither the gateway nor the worker needs at run time", () => {
    const rmBlock = /rm -rf([^&]*)&&/.exec(text.replace(/\\\n/g, " "))?.[1] ?? "";
    const removedWorkspaces = [...rmBlock.matchAll(/(?:^|\s)((?:apps|packages)\/[\w-]+)(?=\s|$)/g)].map((m) => m[1] as string);
    expect(removedWorkspaces.length).toBeGreaterThan(0);
    const pkg = (dir: string) => JSON.parse(read(`${dir}/package.json`)) as { name: string; dependencies?: Record<string, string> };
    const workspaceDirs = ["apps", "packages"].flatMap((d) =>
      readdirSync(new URL(d, root))
        .map((n) => `${d}/${n}`)
        .filter((p) => exists(`${p}/package.json`)),
    );
    const dirOf = new Map(workspaceDirs.map((d) => [pkg(d).name, d]));
    const needed = new Set<string>();
    const visit = (dir: string) => {
      if (needed.has(dir)) return;
      needed.add(dir);
      for (const dep of Object.keys(pkg(dir).dependencies ?? {})) {
        const d = dirOf.get(dep);
        if (d) visit(d);
      }
    };
    visit("apps/gateway");
    visit("apps/worker");
    for (const dir of removedWorkspaces) {
      expect(exists(`${dir}/package.json`), `${dir} is not a workspace`).toBe(true);
      expect(needed.has(dir), `${dir} is needed at run time`).toBe(false);
      expect(rmBlock).toContain(`node_modules/${pkg(dir).name}`);
    }
    // And nothing needed is left out of the runtime stage.
    const runtimeCopies = stage("runtime")
      .instructions.filter((i) => i.op === "COPY")
      .map((i) => i.args);
    for (const dir of ["apps", "packages", "node_modules"]) expect(runtimeCopies.some((c) => c.includes(`/app/${dir} `))).toBe(true);
  });

  it("runtime: NODE_ENV=production, non-root user, files owned by it", () => {
    for (const target of ["gateway", "worker"]) {
      expect(lineage(target).some((i) => i.op === "ENV" && /\bNODE_ENV=production\b/.test(i.args))).toBe(true);
      expect(last(target, "USER")).toBe("node");
    }
    for (const copy of stage("runtime").instructions.filter((i) => i.op === "COPY")) expect(copy.args).toMatch(/--chown=node:node/);
  });

  it("gateway target: exposes 3000 and 9464, health-checks /healthz on PORT, stops with SIGTERM, runs the gateway", () => {
    const config = effectiveConfig(GATEWAY_ENTRY, { JWT_SECRET: "x" });
    expect(last("gateway", "EXPOSE")?.split(/\s+/).map(Number).sort()).toEqual([config.PORT, config.METRICS_PORT].sort());
    const hc = last("gateway", "HEALTHCHECK") ?? "";
    expect(hc).toContain("/healthz");
    expect(hc).toMatch(new RegExp(`process\\.env\\.PORT\\|\\|${config.PORT}`));
    expect(last("gateway", "STOPSIGNAL")).toBe("SIGTERM");
    expect(JSON.parse(last("gateway", "CMD") ?? "[]")).toEqual(["node", "apps/gateway/dist/main.js"]);
    expect(fileURLToPath(new URL("apps/gateway/dist/main.js", root))).toBe(GATEWAY_ENTRY);
  });

  it("gateway target: serves the web console built in the build stage (WEB_ROOT, a key the gateway reads)", () => {
    const runs = stage("build")
      .instructions.filter((i) => i.op === "RUN")
      .map((i) => i.args);
    expect(runs.find((r) => r.includes("turbo run build"))).toMatch(/--filter=@agentcast\/web(\s|$)/);
    const webRoot = /\bWEB_ROOT=(\S+)/.exec(lineage("gateway").find((i) => i.op === "ENV" && i.args.includes("WEB_ROOT"))?.args ?? "")?.[1];
    expect(webRoot, "gateway stage sets WEB_ROOT").toBeDefined();
    expect(GATEWAY_ENV).toContain("WEB_ROOT");
    // The console's build output (vite's outDir) is moved to where the gateway stage copies it from and to.
    const moved = runs.map((r) => /^mv apps\/web\/dist (\S+)$/.exec(r)?.[1]).find(Boolean);
    const copy =
      stage("gateway")
        .instructions.find((i) => i.op === "COPY" && i.args.includes("--from=build"))
        ?.args.split(/\s+/) ?? [];
    expect(copy.at(-2)).toBe(moved);
    expect(posix.resolve("/app", copy.at(-1) ?? "")).toBe(webRoot);
    expect(copy).toContain("--chown=node:node");
    // Where vite writes the console: its default (dist) or the configured outDir.
    const outDir = /outDir:\s*"([^"]+)"/.exec(read("apps/web/vite.config.ts"))?.[1] ?? "dist";
    expect(runs).toContain(`mv apps/web/${outDir} ${moved}`);
  });

  it("worker target: exposes 9465, health-checks /healthz on METRICS_PORT, stops with SIGTERM, runs the worker", () => {
    const config = effectiveConfig(WORKER_ENTRY, {});
    expect(last("worker", "EXPOSE")).toBe(String(config.METRICS_PORT));
    const hc = last("worker", "HEALTHCHECK") ?? "";
    expect(hc).toContain("/healthz");
    expect(hc).toMatch(new RegExp(`process\\.env\\.METRICS_PORT\\|\\|${config.METRICS_PORT}`));
    expect(last("worker", "STOPSIGNAL")).toBe("SIGTERM");
    expect(JSON.parse(last("worker", "CMD") ?? "[]")).toEqual(["node", "apps/worker/dist/main.js"]);
    expect(fileURLToPath(new URL("apps/worker/dist/main.js", root))).toBe(WORKER_ENTRY);
  });

  it(".dockerignore keeps installs, builds, git and logs out of the build context", () => {
    const ignored = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const pattern of ["**/node_modules", "**/dist", "**/.turbo", ".git", "**/coverage", "**/*.log", "test-artifacts"]) {
      expect(ignored).toContain(pattern);
    }
  });
});
