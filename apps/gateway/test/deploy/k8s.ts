// Rendering and validating the kustomize overlays offline (shared by the k8s tests).
import { spawnSync } from "node:child_process";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { PodMonitor, PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { expect } from "vitest";
import { parseAllDocuments } from "yaml";
import { rootPath } from "./files.js";

// ---------------------------------------------------------------- Kubernetes

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
  spec?: any;
  data?: Record<string, string>;
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: unknown;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown; httpGet?: unknown } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
}
export interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  };
}

// biome-ignore lint/suspicious/noExplicitAny: each model class takes its own typed spec
export type ModelClass = new (data: any) => { validate(): void };
/** apiVersion/kind → the kubernetes-models class that validates it. A kind missing here fails the test. */
export const VALIDATORS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "networking.k8s.io/v1/Ingress": Ingress,
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute,
};

export function parseManifests(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text)
    .filter((d) => d.contents !== null)
    .map((d) => {
      expect(
        d.errors.map((e) => e.message),
        source,
      ).toEqual([]);
      return d.toJS() as K8sObject;
    });
}

export function kustomize(dir: string): K8sObject[] {
  const res = spawnSync("kubectl", ["kustomize", dir], { cwd: rootPath, encoding: "utf8", timeout: 60_000 });
  if (res.error) throw new Error(`kubectl kustomize ${dir}: ${res.error.message} (kubectl is needed to render the overlays)`);
  expect(res.status, `kubectl kustomize ${dir}:\n${res.stderr}`).toBe(0);
  return parseManifests(res.stdout, dir);
}

/** The value, or a failure naming what is missing. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing: ${what}`);
  return value;
}

export const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** A LabelSelector (matchLabels + matchExpressions with In/NotIn/Exists/DoesNotExist) against pod labels. */
export function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] },
  labels: Record<string, string>,
): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const v = labels[key];
    if (operator === "In") return v !== undefined && values.includes(v);
    if (operator === "NotIn") return v === undefined || !values.includes(v);
    if (operator === "Exists") return v !== undefined;
    return v === undefined;
  });
  const nonEmpty = Object.keys(selector.matchLabels ?? {}).length + (selector.matchExpressions?.length ?? 0) > 0;
  return nonEmpty && byLabels && byExpressions;
}

/** What a Secret managed outside an overlay holds, as far as the config checks need (other keys stay unset). */
export const EXTERNAL_SECRET_PLACEHOLDERS: Record<string, string> = {
  JWT_SECRET: "placeholder-of-an-external-secret",
  REDIS_CLUSTER_NODES: "rediss://redis-cluster.example.internal:6379",
  REDIS_PASSWORD: "placeholder-of-an-external-secret",
};

export class Rendered {
  constructor(
    readonly objects: K8sObject[],
    readonly namespace: string,
  ) {}
  all(kind: string): K8sObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }
  find(kind: string, name: string): K8sObject | undefined {
    return this.objects.find((o) => o.kind === kind && o.metadata.name === name);
  }
  get(kind: string, name: string): K8sObject {
    const o = this.find(kind, name);
    if (!o) throw new Error(`${kind}/${name} is not rendered in ${this.namespace}`);
    return o;
  }
  /** Workloads with pod templates. */
  workloads(): K8sObject[] {
    return this.objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
  }
  template(kind: string, name: string): PodTemplate {
    return this.get(kind, name).spec.template as PodTemplate;
  }
  /** A ConfigMap's or Secret's data by its rendered name (a generated Secret's name carries a hash). */
  secretData(name: string): Record<string, string> | undefined {
    const s = this.find("Secret", name);
    return s?.data ? Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")])) : undefined;
  }
  /**
   * The environment the container would get: envFrom ConfigMaps, then env (values, ConfigMap keys,
   * Secret keys — a placeholder for a Secret managed outside the overlay — and the downward API).
   */
  containerEnv(container: Container, externalSecrets: readonly string[]): Record<string, string> {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef) Object.assign(env, this.get("ConfigMap", from.configMapRef.name).data);
      if (from.secretRef) Object.assign(env, this.secretData(from.secretRef.name) ?? {});
    }
    for (const e of container.env ?? []) {
      const ref = e.valueFrom;
      if (e.value !== undefined) env[e.name] = e.value;
      else if (ref?.fieldRef) env[e.name] = `pod-${ref.fieldRef.fieldPath.replace(/\W/g, "-")}`;
      else if (ref?.configMapKeyRef) {
        const v = this.get("ConfigMap", ref.configMapKeyRef.name).data?.[ref.configMapKeyRef.key];
        if (v !== undefined) env[e.name] = v;
      } else if (ref?.secretKeyRef) {
        const data = this.secretData(ref.secretKeyRef.name);
        if (data) {
          const v = data[ref.secretKeyRef.key];
          if (v !== undefined) env[e.name] = v;
        } else if (externalSecrets.includes(ref.secretKeyRef.name) && EXTERNAL_SECRET_PLACEHOLDERS[ref.secretKeyRef.key]) {
          env[e.name] = EXTERNAL_SECRET_PLACEHOLDERS[ref.secretKeyRef.key] as string;
        }
      }
    }
    return env;
  }
}

export const GATEWAY = "agentcast-gateway";
export const WORKER = "agentcast-worker";
