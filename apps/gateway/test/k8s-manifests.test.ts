// The kustomize overlays rendered offline, every object validated against its schema and cross-checked
// against what the gateway and worker actually read and serve. Needs kubectl (for `kubectl kustomize`), no cluster.
import { GATEWAY_ENTRY, WORKER_ENTRY } from "@agentcast/testkit";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../src/config.js";
import { effectiveConfig, GATEWAY_ENV, PING_INTERVAL_S, PING_TIMEOUT_S, read, SHUTDOWN_MARGIN_S, WORKER_ENV } from "./deploy/files.js";
import {
  type Container,
  GATEWAY,
  kustomize,
  type Metadata,
  matches,
  must,
  type PodTemplate,
  parseManifests,
  Rendered,
  selects,
  VALIDATORS,
  WORKER,
} from "./deploy/k8s.js";

interface OverlayCase {
  overlay: string;
  namespace: string;
  /** Secrets the manifests reference but the overlay does not create (managed outside the repository). */
  externalSecrets: string[];
  /** Whether KEDA owns the replica counts (ScaledObjects rendered) or the Deployments fix them. */
  autoscaled: boolean;
}

const OVERLAYS: OverlayCase[] = [
  { overlay: "k8s/overlays/dev", namespace: "agentcast-dev", externalSecrets: [], autoscaled: false },
  { overlay: "k8s/overlays/production", namespace: "agentcast", externalSecrets: ["agentcast-jwt"], autoscaled: true },
  // The production overlay plus the redis-cluster component (its own checks: k8s-cluster.test.ts).
  {
    overlay: "k8s/overlays/production-cluster",
    namespace: "agentcast",
    externalSecrets: ["agentcast-jwt", "agentcast-redis"],
    autoscaled: true,
  },
];

describe.each(OVERLAYS)("kustomize $overlay", ({ overlay, namespace, externalSecrets, autoscaled }) => {
  const k = new Rendered(kustomize(overlay), namespace);
  const gatewayPod = () => k.template("Deployment", GATEWAY);
  const workerPod = () => k.template("Deployment", WORKER);
  const container = (pod: PodTemplate) => pod.spec.containers[0] as Container;
  const envOf = (pod: PodTemplate) => k.containerEnv(container(pod), externalSecrets);
  const gatewayConfig = () => effectiveConfig(GATEWAY_ENTRY, envOf(gatewayPod()));
  const workerConfig = () => effectiveConfig(WORKER_ENTRY, envOf(workerPod()));
  const portNamed = (c: Container, name: string | number) =>
    typeof name === "number" ? name : c.ports?.find((p) => p.name === name)?.containerPort;

  it("renders objects that each validate against their API schema", () => {
    expect(k.objects.length).toBeGreaterThan(8);
    const problems: string[] = [];
    for (const o of k.objects) {
      const key = `${o.apiVersion}/${o.kind}`;
      const Model = VALIDATORS[key];
      if (!Model) {
        problems.push(`${key} ${o.metadata.name}: no validator for this kind`);
        continue;
      }
      try {
        new Model(o).validate();
      } catch (err) {
        problems.push(`${key} ${o.metadata.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("puts everything in the overlay's namespace with the part-of label", () => {
    for (const o of k.objects) {
      if (o.kind === "Namespace") expect(o.metadata.name).toBe(namespace);
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(namespace);
      expect(o.metadata.labels?.["app.kubernetes.io/part-of"], `${o.kind}/${o.metadata.name}`).toBe("agentcast");
    }
    for (const w of k.workloads()) expect((w.spec.template as PodTemplate).metadata.labels["app.kubernetes.io/part-of"]).toBe("agentcast");
  });

  it("gateway: ports and probe paths are the ones the gateway serves", () => {
    const c = container(gatewayPod());
    const config = gatewayConfig();
    expect(portNamed(c, "http")).toBe(3000);
    expect(portNamed(c, "metrics")).toBe(9464);
    expect(portNamed(c, "http")).toBe(config.PORT);
    expect(portNamed(c, "metrics")).toBe(config.METRICS_PORT);
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
    if (c.startupProbe) expect(c.startupProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    // The routes exist in the source, on the port they are probed on.
    expect(read("apps/gateway/src/http/http-api.ts")).toMatch(/open\(\["GET", "HEAD"\], "\/readyz"/);
    expect(read("apps/gateway/src/http/http-api.ts")).toMatch(/open\(\["GET", "HEAD"\], "\/healthz"/);
  });

  it("worker: metrics port and liveness path are the ones the worker serves", () => {
    const c = container(workerPod());
    expect(portNamed(c, "metrics")).toBe(9465);
    expect(portNamed(c, "metrics")).toBe(workerConfig().METRICS_PORT);
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(read("packages/runtime/src/metrics-server.ts")).toContain('req.url === "/healthz"');
  });

  it("every env var set on a container (env and envFrom ConfigMaps) is one its app reads", () => {
    for (const [pod, known] of [
      [gatewayPod(), GATEWAY_ENV],
      [workerPod(), WORKER_ENV],
    ] as const) {
      const names = Object.keys(envOf(pod)).concat((container(pod).env ?? []).map((e) => e.name));
      expect(names.filter((n) => !known.has(n))).toEqual([]);
    }
    // Every rendered ConfigMap is consumed by a gateway or worker.
    const used = new Set([gatewayPod(), workerPod()].flatMap((p) => (container(p).envFrom ?? []).map((f) => f.configMapRef?.name)));
    for (const cm of k.all("ConfigMap")) expect(used.has(cm.metadata.name), `ConfigMap ${cm.metadata.name} unused`).toBe(true);
  });

  it("the environment each container gets passes its app's config validation", () => {
    const gw = gatewayConfig();
    const wk = workerConfig();
    for (const key of ["redis", "REDIS_URL", "REDIS_CLUSTER_NODES", "REDIS_KEY_PREFIX", "HISTORY_TTL_SECONDS", "RUN_QUEUE_SHARDS"])
      expect(gw[key], key).toBe(wk[key]);
    expect(gw.JWT_SECRET).toBe("<set>");
    // The ids are the pod names (downward API), so metrics and logs name the pod.
    expect(container(gatewayPod()).env?.find((e) => e.name === "GATEWAY_ID")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(container(workerPod()).env?.find((e) => e.name === "WORKER_ID")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
  });

  it("every referenced ConfigMap and Secret exists, or is a Secret managed outside the overlay", () => {
    for (const w of k.workloads()) {
      for (const c of (w.spec.template as PodTemplate).spec.containers) {
        for (const f of c.envFrom ?? []) {
          if (f.configMapRef) expect(k.find("ConfigMap", f.configMapRef.name), f.configMapRef.name).toBeDefined();
          if (f.secretRef) expect(k.find("Secret", f.secretRef.name) ?? externalSecrets.includes(f.secretRef.name)).toBeTruthy();
        }
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          if (s) expect(k.find("Secret", s.name) ?? externalSecrets.includes(s.name), `Secret ${s.name}`).toBeTruthy();
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm) expect(k.find("ConfigMap", cm.name)?.data?.[cm.key], `ConfigMap ${cm.name} key ${cm.key}`).toBeDefined();
        }
      }
    }
    // Secrets managed outside are not rendered (nothing in the repository holds their values).
    for (const name of externalSecrets) expect(k.find("Secret", name)).toBeUndefined();
  });

  it("Service selectors match pods, and their target ports are named container ports", () => {
    const services = k.all("Service");
    expect(services.map((s) => s.metadata.name)).toContain(GATEWAY);
    for (const svc of services) {
      const pods = k.workloads().filter((w) => matches(svc.spec.selector, (w.spec.template as PodTemplate).metadata.labels));
      expect(pods.length, `Service ${svc.metadata.name} selects no pods`).toBeGreaterThan(0);
      for (const port of svc.spec.ports as { targetPort: string | number }[]) {
        for (const w of pods) {
          const c = (w.spec.template as PodTemplate).spec.containers[0] as Container;
          expect(portNamed(c, port.targetPort), `${svc.metadata.name} → ${port.targetPort}`).toBeDefined();
        }
      }
    }
    const gwPods = k
      .workloads()
      .filter((w) => matches(k.get("Service", GATEWAY).spec.selector, (w.spec.template as PodTemplate).metadata.labels));
    expect(gwPods.map((w) => w.metadata.name)).toEqual([GATEWAY]);
    // Deployment selectors select their own templates.
    for (const w of k.workloads())
      expect(selects(w.spec.selector, (w.spec.template as PodTemplate).metadata.labels), w.metadata.name).toBe(true);
  });

  it("the PDB, ScaledObjects, PodMonitor, HTTPRoute and NetworkPolicies point at what exists", () => {
    const pdb = k.get("PodDisruptionBudget", GATEWAY);
    expect(selects(pdb.spec.selector, gatewayPod().metadata.labels)).toBe(true);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);

    for (const pm of k.all("PodMonitor")) {
      for (const pod of [gatewayPod(), workerPod()]) {
        expect(selects(pm.spec.selector, pod.metadata.labels), `PodMonitor selects ${pod.metadata.labels["app.kubernetes.io/name"]}`).toBe(
          true,
        );
        for (const ep of pm.spec.podMetricsEndpoints as { port: string; path?: string }[]) {
          expect(portNamed(container(pod), ep.port)).toBeDefined();
          expect(ep.path ?? "/metrics").toBe("/metrics");
        }
      }
    }
    for (const route of k.all("HTTPRoute")) {
      expect(route.spec.parentRefs).toEqual([expect.objectContaining({ kind: "Gateway", name: "agentcast" })]);
      for (const rule of route.spec.rules as { backendRefs: { name: string; port: number }[] }[]) {
        for (const ref of rule.backendRefs) {
          const svc = k.get("Service", ref.name);
          expect((svc.spec.ports as { port: number }[]).map((p) => p.port)).toContain(ref.port);
        }
      }
    }

    const policies = k.all("NetworkPolicy");
    const redisPolicy = must(
      policies.find((p) => p.spec.podSelector.matchLabels?.["app.kubernetes.io/name"] === "redis"),
      "a NetworkPolicy for Redis pods",
    );
    const peers = (
      redisPolicy.spec.ingress as { from: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[]
    ).flatMap((rule) => rule.from.map((peer) => ({ peer, ports: rule.ports.map((p) => p.port) })));
    for (const pod of [gatewayPod(), workerPod()]) {
      const allowed = peers.filter((x) => x.peer.podSelector && selects(x.peer.podSelector, pod.metadata.labels));
      expect(allowed.flatMap((x) => x.ports)).toEqual([6379]);
    }
    expect(peers.every((x) => x.peer.podSelector !== undefined)).toBe(true); // nothing else reaches Redis
    for (const redis of k.workloads().filter((w) => w.metadata.name.includes("redis"))) {
      expect(selects(redisPolicy.spec.podSelector, (redis.spec.template as PodTemplate).metadata.labels)).toBe(true);
    }
    const gwPolicy = policies.find((p) => selects(p.spec.podSelector, gatewayPod().metadata.labels));
    const rules = gwPolicy?.spec.ingress as {
      from?: { namespaceSelector?: { matchLabels: Record<string, string> } }[];
      ports: { port: number }[];
    }[];
    expect(rules.find((r) => r.from === undefined)?.ports.map((p) => p.port)).toEqual([portNamed(container(gatewayPod()), "http")]);
    const scrape = rules.find((r) => r.from?.some((f) => f.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "monitoring"));
    expect(scrape?.ports.map((p) => p.port)).toEqual([portNamed(container(gatewayPod()), "metrics")]);
  });

  it("KEDA scales on metrics the apps export, in this namespace, within sane bounds", () => {
    const scaled = k.all("ScaledObject");
    if (!autoscaled) {
      expect(scaled).toEqual([]);
      expect(k.get("Deployment", GATEWAY).spec.replicas).toBe(1);
      expect(k.get("Deployment", WORKER).spec.replicas).toBe(1);
      return;
    }
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual([GATEWAY, WORKER]);
    const gatewayMetrics = read("apps/gateway/src/metrics/gateway-metrics.ts");
    const workerMetrics = read("apps/worker/src/metrics/worker-metrics.ts");
    for (const so of scaled) {
      const target = k.get("Deployment", so.spec.scaleTargetRef.name);
      // KEDA owns the count: a `replicas` in the Deployment would reset it on every apply.
      expect(target.spec.replicas, `${target.metadata.name} must leave replicas to KEDA`).toBeUndefined();
      expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
      for (const t of so.spec.triggers as { type: string; metadata: Record<string, string> }[]) {
        if (t.type === "cpu") {
          for (const c of (target.spec.template as PodTemplate).spec.containers)
            expect(c.resources?.requests?.cpu, "cpu trigger needs cpu requests").toBeDefined();
          continue;
        }
        expect(t.type).toBe("prometheus");
        const query = t.metadata.query ?? "";
        expect(query).toContain(`namespace="${namespace}"`);
        expect(Number(t.metadata.threshold)).toBeGreaterThan(0);
        for (const [, metric] of query.matchAll(/\b(agentcast_[a-z_]+)\b/g)) {
          expect(gatewayMetrics + workerMetrics, `${metric} is not a metric the apps register`).toContain(`name: "${metric}"`);
        }
      }
    }
    const gw = k.get("ScaledObject", GATEWAY);
    expect(gw.spec.minReplicaCount, "production keeps at least 2 gateways").toBeGreaterThanOrEqual(2);
    expect((gw.spec.triggers as { type: string }[]).map((t) => t.type).sort()).toEqual(["cpu", "prometheus"]);
    const wk = k.get("ScaledObject", WORKER);
    const [queueTrigger] = wk.spec.triggers as { metadata: { query: string; threshold: string } }[];
    // Every worker exports the same queue-wide gauge: it must be taken once, not summed over workers.
    expect(queueTrigger?.metadata.query).toMatch(/^max\(.*agentcast_queue_jobs.*state=~"[^"]*waiting[^"]*"/);
    // One pod's worth of runs per threshold.
    expect(Number(queueTrigger?.metadata.threshold)).toBe(workerConfig().WORKER_CONCURRENCY);
  });

  it("shutdown: grace periods outlast preStop and the drain windows; preStop is the native sleep", () => {
    const gw = gatewayPod();
    const preStop = container(gw).lifecycle?.preStop;
    expect(preStop?.exec, "no exec preStop: the image has no shell tools to rely on").toBeUndefined();
    const sleep = preStop?.sleep?.seconds ?? 0;
    expect(sleep).toBeGreaterThanOrEqual(3);
    const drainS = (gatewayConfig().DRAIN_WINDOW_MS as number) / 1000;
    expect(envOf(gw).DRAIN_WINDOW_MS, "DRAIN_WINDOW_MS is set explicitly").toBeDefined();
    expect(gw.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + drainS + SHUTDOWN_MARGIN_S);

    const wk = workerPod();
    const workerDrainS = (workerConfig().WORKER_DRAIN_MS as number) / 1000;
    expect(envOf(wk).WORKER_DRAIN_MS, "WORKER_DRAIN_MS is set explicitly").toBeDefined();
    expect(wk.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(workerDrainS + SHUTDOWN_MARGIN_S);

    for (const name of [GATEWAY, WORKER]) {
      const strategy = k.get("Deployment", name).spec.strategy;
      expect(strategy.type).toBe("RollingUpdate");
      expect(strategy.rollingUpdate.maxUnavailable).toBe(0);
    }
  });

  it("every pod runs as non-root with a read-only root filesystem, no privilege escalation, no capabilities, bounded memory", () => {
    for (const w of k.workloads()) {
      const pod = (w.spec.template as PodTemplate).spec;
      expect(pod.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
      expect(pod.securityContext?.runAsUser, w.metadata.name).toBeGreaterThan(0);
      for (const c of pod.containers) {
        const sc = c.securityContext;
        expect(sc?.allowPrivilegeEscalation, c.name).toBe(false);
        expect(sc?.readOnlyRootFilesystem, c.name).toBe(true);
        expect(sc?.capabilities?.drop, c.name).toContain("ALL");
        expect(sc?.runAsUser ?? pod.securityContext?.runAsUser, c.name).not.toBe(0);
        expect(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, c.name).toBeTruthy();
      }
    }
    // The image's `node` user is uid 1000.
    expect(gatewayPod().spec.securityContext?.runAsUser).toBe(1000);
    expect(workerPod().spec.securityContext?.runAsUser).toBe(1000);
  });

  if (!autoscaled) {
    it("dev: one gateway, one worker and an in-cluster Redis 7 with noeviction and AOF; no CRDs needed", () => {
      const redis = k.get("StatefulSet", "agentcast-redis");
      expect(redis.spec.replicas).toBe(1);
      const c = (redis.spec.template as PodTemplate).spec.containers[0] as Container;
      expect(c.image).toMatch(/^redis:7\b/);
      expect(c.args?.join(" ")).toContain("--maxmemory-policy noeviction");
      expect(c.args?.join(" ")).toContain("--appendonly yes");
      expect(k.get("Service", "agentcast-redis").spec.ports[0].port).toBe(6379);
      expect(gatewayConfig().REDIS_URL).toBe("redis://agentcast-redis:6379");
      const builtIn = new Set(["v1", "apps/v1", "policy/v1", "networking.k8s.io/v1"]);
      expect(k.objects.filter((o) => !builtIn.has(o.apiVersion)).map((o) => o.kind)).toEqual([]);
    });
  } else {
    it("production: managed Redis (one node or a cluster) over TLS, pinned images, the alert rules and the route", () => {
      expect(gatewayConfig().redis).toMatch(/^(cluster )?rediss:\/\//);
      for (const pod of [gatewayPod(), workerPod()]) expect(container(pod).image).toMatch(/^[^:]+\/[^:]+:(?!latest$)[\w.-]+$/);
      expect(k.all("PrometheusRule")).toHaveLength(1);
      expect(k.all("HTTPRoute")).toHaveLength(1);
      expect(k.all("PodMonitor")).toHaveLength(1);
    });
  }
});

describe("k8s/examples", () => {
  it("the ingress-nginx example validates, targets the gateway Service and outlasts the Socket.IO heartbeat", () => {
    const [first, ...rest] = parseManifests(read("k8s/examples/ingress-nginx.yaml"), "ingress-nginx.yaml");
    expect(rest).toEqual([]);
    const ingress = must(first, "an Ingress");
    expect(ingress.kind).toBe("Ingress");
    new Ingress(ingress as ConstructorParameters<typeof Ingress>[0]).validate();
    const annotations = (ingress.metadata as Metadata & { annotations: Record<string, string> }).annotations;
    for (const key of ["proxy-read-timeout", "proxy-send-timeout"]) {
      expect(Number(annotations[`nginx.ingress.kubernetes.io/${key}`])).toBeGreaterThan(PING_INTERVAL_S + PING_TIMEOUT_S);
    }
    // Cookie affinity is documented but off: websocket-first clients need none.
    expect(Object.keys(annotations).some((a) => a.includes("affinity"))).toBe(false);
    expect(read("k8s/examples/ingress-nginx.yaml")).toMatch(/# nginx\.ingress\.kubernetes\.io\/affinity: cookie/);
    const service = must(parseManifests(read("k8s/base/gateway-service.yaml"), "gateway-service.yaml")[0], "the gateway Service");
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(service.metadata.name);
    expect((service.spec.ports as { name: string }[]).map((p) => p.name)).toContain(backend.port.name);
  });

  it("the gateway does not override Socket.IO's heartbeat the proxy timeouts are sized for", () => {
    // The Socket.IO server options live in one place.
    expect(read("apps/gateway/src/socketio/socket-server.ts")).toMatch(/new Server\(/);
    expect(read("apps/gateway/src/socketio/socket-server.ts")).not.toMatch(/ping(Interval|Timeout)/);
  });

  it("the env-key list used above is the gateway schema's", () => {
    expect([...GATEWAY_ENV].sort()).toEqual(Object.keys(gatewayConfigSchema.shape).sort());
    for (const key of ["REDIS_URL", "WORKER_DRAIN_MS", "WORKER_CONCURRENCY", "AGENT", "WORKER_ID", "METRICS_PORT"])
      expect(WORKER_ENV).toContain(key);
  });
});
