import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** What a probe answers: up (200 `{"status":"ok"}`) or down with why (503 `{"status":"down","reason":…}`). */
export type HealthStatus = { ok: true } | { ok: false; reason: string };
export type HealthCheck = () => HealthStatus;

export interface MetricsServerOptions {
  /**
   * Liveness, `GET /healthz`. Default: the process serves HTTP (always up); a process whose liveness means
   * more (the worker: its job consumer still runs) passes its own.
   */
  healthz?: HealthCheck;
  /** More probes by path (e.g. a `/readyz`), answered the same way. */
  probes?: Readonly<Record<string, HealthCheck>>;
}

const ALIVE: HealthCheck = () => ({ ok: true });

/** Serves `GET /metrics` from `registry` and the health probes on its own port; resolves with the bound port. */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host: string,
  opts: MetricsServerOptions = {},
): Promise<{ server: Server; port: number }> {
  const probes = opts.probes ?? {};
  const server = createServer((req, res) => {
    const probe =
      req.url === "/healthz"
        ? (opts.healthz ?? ALIVE)
        : req.url !== undefined && Object.hasOwn(probes, req.url)
          ? probes[req.url]
          : undefined;
    if (probe) {
      const status = probe();
      const body = status.ok ? { status: "ok" } : { status: "down", reason: status.reason };
      res.writeHead(status.ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(body));
      return;
    }
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
