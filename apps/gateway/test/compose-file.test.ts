// docker-compose.yml and what it mounts (nginx, Prometheus, Grafana) checked offline: compose-spec schema via dclint,
// and every env var a container gets parsed by its app's own `--print-config`.

import { posix } from "node:path";
import { fileURLToPath } from "node:url";
import { GATEWAY_ENTRY, WORKER_ENTRY } from "@agentcast/testkit";
import { DCLinter } from "dclint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  effectiveConfig,
  exists,
  GATEWAY_ENV,
  interpolate,
  PING_INTERVAL_S,
  PING_TIMEOUT_S,
  read,
  root,
  SHUTDOWN_MARGIN_S,
  WORKER_ENV,
} from "./deploy/files.js";
import { must } from "./deploy/k8s.js";

// ---------------------------------------------------------------- docker compose, nginx, Prometheus, Grafana

interface ComposeService {
  image?: string;
  build?: { context: string; target: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
  ports?: string[];
  restart?: string;
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
}

/** "1m30s" → 90. */
const seconds = (duration: string) =>
  [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as "s"],
    0,
  );

describe("docker-compose.yml", () => {
  const compose = parse(read("docker-compose.yml")) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const services = compose.services;
  const named = (prefix: string) => Object.keys(services).filter((n) => n.startsWith(prefix));
  const mountOf = (svc: ComposeService, hostPath: string) =>
    svc.volumes?.map((v) => v.split(":")).find(([host]) => posix.normalize(host ?? "") === posix.normalize(hostPath))?.[1];

  it("validates against the compose-spec schema and dclint's rules", () => {
    const linter = new DCLinter({
      // Services are in stack order (data, apps, balancer, monitoring), not alphabetical.
      rules: { "services-alphabetical-order": 0, "require-quotes-in-ports": [2, { quoteType: "double" }] },
      quiet: false,
      debug: false,
      exclude: [],
    });
    const [result] = linter.lintFiles([fileURLToPath(new URL("docker-compose.yml", root))], false);
    const problems = (result?.messages ?? []).map(
      (m: { line: number; rule: string; message: string }) => `${m.line}: ${m.rule} ${m.message}`,
    );
    expect(problems).toEqual([]);
    expect(result?.errorCount).toBe(0);
  });

  it("has the whole stack, every service restarts, published ports bind to loopback", () => {
    const inProfile = (profile: string | undefined) =>
      Object.keys(services)
        .filter((n) => (services[n] as ComposeService & { profiles?: string[] }).profiles?.[0] === profile)
        .sort();
    // `docker compose up`: the stack on one Redis; `--profile cluster` adds the stack on a Redis Cluster.
    expect(inProfile(undefined)).toEqual(["gateway-1", "gateway-2", "grafana", "lb", "prometheus", "redis", "worker-1", "worker-2"]);
    expect(inProfile("cluster")).toEqual([
      "cluster-gateway-1",
      "cluster-gateway-2",
      "cluster-lb",
      "cluster-worker-1",
      "cluster-worker-2",
      "redis-cluster-init",
      ...[1, 2, 3, 4, 5, 6].map((i) => `redis-node-${i}`),
    ]);
    expect(inProfile(undefined).length + inProfile("cluster").length).toBe(Object.keys(services).length);
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.restart, name).toMatch(/^(always|unless-stopped|on-failure)/);
      expect(svc.image ?? svc.build, name).toBeDefined();
      for (const port of svc.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    expect(services.lb?.ports).toEqual(["127.0.0.1:3000:3000"]);
  });

  it("redis: 7, noeviction, AOF, a volume and a healthcheck the apps wait for", () => {
    const redis = services.redis as ComposeService & { command: string[] };
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.command.join(" ")).toContain("--maxmemory-policy noeviction");
    expect(redis.command.join(" ")).toContain("--appendonly yes");
    expect(redis.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
    expect(Object.keys(compose.volumes)).toContain(redis.volumes?.[0]?.split(":")[0]);
    for (const name of [...named("gateway-"), ...named("worker-")]) {
      const dependsOn = must(services[name], name).depends_on as Record<string, { condition: string }>;
      expect(dependsOn.redis?.condition, name).toBe("service_healthy");
    }
  });

  it("gateways: built from the Dockerfile's gateway target; env they read; valid config; grace > drain window", () => {
    const gateways = named("gateway-");
    expect(gateways).toEqual(["gateway-1", "gateway-2"]);
    const ids = new Set<unknown>();
    for (const name of gateways) {
      const svc = services[name] as ComposeService;
      expect(svc.build).toEqual({ context: ".", target: "gateway" });
      const env = svc.environment ?? {};
      expect(Object.keys(env).filter((k) => !GATEWAY_ENV.has(k))).toEqual([]);
      expect(env.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?[^}]+\}$/);
      expect(env.REDIS_URL).toBe("redis://redis:6379");
      const config = effectiveConfig(GATEWAY_ENTRY, interpolate(env));
      ids.add(config.GATEWAY_ID);
      expect(seconds(svc.stop_grace_period ?? "10s")).toBeGreaterThanOrEqual((config.DRAIN_WINDOW_MS as number) / 1000 + SHUTDOWN_MARGIN_S);
    }
    expect(ids.size).toBe(gateways.length);
  });

  it("workers: built from the worker target; env they read; valid config; grace > WORKER_DRAIN_MS", () => {
    const workers = named("worker-");
    expect(workers).toEqual(["worker-1", "worker-2"]);
    const ids = new Set<unknown>();
    for (const name of workers) {
      const svc = services[name] as ComposeService;
      expect(svc.build).toEqual({ context: ".", target: "worker" });
      const env = svc.environment ?? {};
      expect(Object.keys(env).filter((k) => !WORKER_ENV.has(k))).toEqual([]);
      expect(Object.keys(env)).toEqual(expect.arrayContaining(["REDIS_URL", "WORKER_CONCURRENCY", "AGENT", "WORKER_ID"]));
      const config = effectiveConfig(WORKER_ENTRY, interpolate(env));
      ids.add(config.WORKER_ID);
      expect(config.REDIS_URL).toBe("redis://redis:6379");
      expect(seconds(svc.stop_grace_period ?? "10s")).toBeGreaterThanOrEqual((config.WORKER_DRAIN_MS as number) / 1000 + SHUTDOWN_MARGIN_S);
    }
    expect(ids.size).toBe(workers.length);
  });

  it("lb: nginx balances over every gateway, passes websocket upgrades, outlasts the Socket.IO heartbeat", () => {
    const lb = services.lb as ComposeService;
    expect(lb.image).toMatch(/^nginx:/);
    expect(mountOf(lb, "./deploy/nginx/nginx.conf")).toBe("/etc/nginx/nginx.conf");
    expect(Object.keys(lb.depends_on as Record<string, unknown>).sort()).toEqual(named("gateway-"));
    const conf = read("deploy/nginx/nginx.conf").replace(/#.*$/gm, "");
    const upstream = /upstream\s+(\w+)\s*\{([^}]*)\}/.exec(conf);
    expect(upstream).not.toBeNull();
    const servers = [...(upstream?.[2] ?? "").matchAll(/server\s+([\w.-]+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    const port = effectiveConfig(GATEWAY_ENTRY, { JWT_SECRET: "x" }).PORT;
    expect(servers.sort()).toEqual(named("gateway-").map((g) => `${g}:${port}`));
    expect(conf).toMatch(/map\s+\$http_upgrade\s+\$connection_upgrade\s*\{[^}]*default\s+upgrade;/);
    const locations = [...conf.matchAll(/location\s+(\S+)\s*\{([^}]*)\}/g)].map((m) => ({ path: m[1], body: m[2] ?? "" }));
    expect(locations.map((l) => l.path)).toEqual(expect.arrayContaining(["/socket.io/", "/"]));
    for (const { path, body } of locations) {
      expect(body, path).toContain(`proxy_pass http://${upstream?.[1]};`);
      expect(body, path).toMatch(/proxy_http_version\s+1\.1;/);
      expect(body, path).toMatch(/proxy_set_header\s+Upgrade\s+\$http_upgrade;/);
      expect(body, path).toMatch(/proxy_set_header\s+Connection\s+\$connection_upgrade;/);
      for (const directive of ["proxy_read_timeout", "proxy_send_timeout"]) {
        const value = new RegExp(`${directive}\\s+(\\S+);`).exec(body)?.[1];
        expect(value, `${path} ${directive}`).toBeDefined();
        expect(seconds(value ?? "0s")).toBeGreaterThan(PING_INTERVAL_S + PING_TIMEOUT_S);
      }
      // TRUST_PROXY=true takes the leftmost X-Forwarded-For entry: nginx must overwrite, not append.
      expect(body, path).toMatch(/proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;/);
    }
    for (const name of named("gateway-")) expect(services[name]?.environment?.TRUST_PROXY).toBe("true");
  });

  it("prometheus: scrapes every gateway and worker on its metrics port and loads the alert rules", () => {
    const prom = services.prometheus as ComposeService;
    expect(mountOf(prom, "./deploy/prometheus/prometheus.yml")).toBe("/etc/prometheus/prometheus.yml");
    const config = parse(read("deploy/prometheus/prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((j) => {
      expect(j.metrics_path ?? "/metrics").toBe("/metrics");
      return j.static_configs.flatMap((s) => s.targets);
    });
    const gatewayMetrics = effectiveConfig(GATEWAY_ENTRY, { JWT_SECRET: "x" }).METRICS_PORT;
    const workerMetrics = effectiveConfig(WORKER_ENTRY, {}).METRICS_PORT;
    const expected = [
      ...[...named("gateway-"), ...named("cluster-gateway-")].map((g) => `${g}:${gatewayMetrics}`),
      ...[...named("worker-"), ...named("cluster-worker-")].map((w) => `${w}:${workerMetrics}`),
    ];
    expect(targets.sort()).toEqual(expected.sort());
    expect(config.rule_files).toEqual([mountOf(prom, "./deploy/prometheus/alerts.yml")]);
  });

  it("deploy/prometheus/alerts.yml holds the same rules as k8s/base/prometheus-rule.yaml", () => {
    const rule = parse(read("k8s/base/prometheus-rule.yaml")) as { spec: { groups: { rules: { alert: string }[] }[] } };
    const alerts = parse(read("deploy/prometheus/alerts.yml")) as { groups: unknown[] };
    expect(alerts.groups).toEqual(rule.spec.groups);
    expect(rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert)).length).toBeGreaterThan(0);
  });

  it("grafana: provisions the compose Prometheus and loads the dashboard from the mounted path", () => {
    const grafana = services.grafana as ComposeService;
    const datasourcesDir = mountOf(grafana, "./deploy/grafana/provisioning/datasources");
    const dashboardsDir = mountOf(grafana, "./deploy/grafana/provisioning/dashboards");
    expect(datasourcesDir).toBe("/etc/grafana/provisioning/datasources");
    expect(dashboardsDir).toBe("/etc/grafana/provisioning/dashboards");
    const ds = parse(read("deploy/grafana/provisioning/datasources/prometheus.yml")) as {
      datasources: { type: string; url: string; isDefault?: boolean }[];
    };
    expect(ds.datasources).toEqual([expect.objectContaining({ type: "prometheus", url: "http://prometheus:9090", isDefault: true })]);
    expect(Object.keys(services)).toContain(new URL(ds.datasources[0]?.url ?? "").hostname);
    const providers = parse(read("deploy/grafana/provisioning/dashboards/agentcast.yml")) as {
      providers: { type: string; options: { path: string } }[];
    };
    const dashboardInContainer = mountOf(grafana, "./deploy/grafana/agentcast.json");
    expect(dashboardInContainer).toBeDefined();
    expect(providers.providers).toEqual([expect.objectContaining({ type: "file" })]);
    expect(posix.dirname(dashboardInContainer ?? "")).toBe(providers.providers[0]?.options.path);
    expect(exists("deploy/grafana/agentcast.json")).toBe(true);
    expect((JSON.parse(read("deploy/grafana/agentcast.json")) as { uid: string }).uid).toBe("agentcast");
  });
});
