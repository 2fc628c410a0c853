// The redis-cluster kustomize component, rendered offline through k8s/overlays/production-cluster: gateways
// and workers get the cluster's seeds and password from a Secret, no REDIS_URL, and run queues spread over
// the masters. (Every generic check of an overlay — schemas, namespaces, probes, KEDA — runs on it in
// k8s-manifests.test.ts.) Needs kubectl, no cluster.
import { GATEWAY_ENTRY, WORKER_ENTRY } from "@agentcast/testkit";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { effectiveConfig, read } from "./deploy/files.js";
import { type Container, type EnvVar, GATEWAY, kustomize, Rendered, WORKER } from "./deploy/k8s.js";

const EXTERNAL = ["agentcast-jwt", "agentcast-redis"];

describe("kustomize k8s/overlays/production-cluster (component redis-cluster)", () => {
  const cluster = new Rendered(kustomize("k8s/overlays/production-cluster"), "agentcast");
  const single = new Rendered(kustomize("k8s/overlays/production"), "agentcast");
  const container = (k: Rendered, name: string) => k.template("Deployment", name).spec.containers[0] as Container;
  const configOf = (k: Rendered, name: string) =>
    effectiveConfig(name === GATEWAY ? GATEWAY_ENTRY : WORKER_ENTRY, k.containerEnv(container(k, name), EXTERNAL));

  it("is the production overlay plus the component, nothing else", () => {
    const overlay = parse(read("k8s/overlays/production-cluster/kustomization.yaml")) as Record<string, unknown>;
    expect(overlay.resources).toEqual(["../production"]);
    expect(overlay.components).toEqual(["../../components/redis-cluster"]);
    expect((parse(read("k8s/components/redis-cluster/kustomization.yaml")) as { kind: string }).kind).toBe("Component");
    const names = (k: Rendered) => k.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names(cluster)).toEqual(names(single));
  });

  it("gateways and workers take the seeds (required) and the credentials (optional) from the Secret agentcast-redis, and no REDIS_URL", () => {
    for (const cm of cluster.all("ConfigMap")) expect(Object.keys(cm.data ?? {}), cm.metadata.name).not.toContain("REDIS_URL");
    for (const name of [GATEWAY, WORKER]) {
      const env = container(cluster, name).env ?? [];
      const fromSecret = (key: string) => env.find((e: EnvVar) => e.name === key)?.valueFrom?.secretKeyRef;
      expect(fromSecret("REDIS_CLUSTER_NODES"), name).toEqual({ name: "agentcast-redis", key: "REDIS_CLUSTER_NODES" });
      expect(fromSecret("REDIS_PASSWORD"), name).toEqual({ name: "agentcast-redis", key: "REDIS_PASSWORD", optional: true });
      expect(fromSecret("REDIS_USERNAME"), name).toEqual({ name: "agentcast-redis", key: "REDIS_USERNAME", optional: true });
      // The rest of the env is the production overlay's, untouched.
      const before = (container(single, name).env ?? []).map((e) => e.name);
      expect(env.map((e) => e.name)).toEqual([...before, "REDIS_CLUSTER_NODES", "REDIS_USERNAME", "REDIS_PASSWORD"]);
    }
    for (const name of [GATEWAY, WORKER]) {
      const config = configOf(cluster, name);
      expect(config.redis, name).toBe("cluster rediss://redis-cluster.example.internal:6379");
      expect(config.REDIS_URL, name).toBeUndefined();
      expect(config.REDIS_PASSWORD, name).toBe("<set>");
    }
  });

  it("run queues: RUN_QUEUE_SHARDS from the shared ConfigMap, 2 per master of 3, WORKER_CONCURRENCY and the KEDA threshold a multiple", () => {
    const shared = cluster.get("ConfigMap", "agentcast-config").data ?? {};
    expect(shared.RUN_QUEUE_SHARDS).toBe("6");
    const gw = configOf(cluster, GATEWAY);
    const wk = configOf(cluster, WORKER);
    expect(gw.RUN_QUEUE_SHARDS).toBe(6);
    expect(wk.RUN_QUEUE_SHARDS).toBe(6);
    expect((wk.WORKER_CONCURRENCY as number) % (wk.RUN_QUEUE_SHARDS as number)).toBe(0);
    const [queued] = cluster.get("ScaledObject", WORKER).spec.triggers as { name: string; metadata: { threshold: string } }[];
    expect(queued?.name).toBe("queued-runs");
    expect(Number(queued?.metadata.threshold)).toBe(wk.WORKER_CONCURRENCY);
    // One Redis node: one queue (the default), as before. (That 6 queues spread 2-2-2 over the masters of a
    // cluster created by redis-cli is shown on a real cluster in compose-cluster.test.ts.)
    expect(configOf(single, WORKER).RUN_QUEUE_SHARDS).toBe(1);
  });
});
