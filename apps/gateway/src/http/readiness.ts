/** What GET /readyz answers (200 when `ready`, else 503). */
export interface Readiness {
  ready: boolean;
  /** Redis can serve this gateway (see `GatewayRedis.up`). */
  redis: boolean;
  draining: boolean;
  /** Why Redis cannot serve: a connection down; on a cluster, a master unanswered or `cluster_state` not ok. */
  redisProblem?: string;
}

/** Ready when Redis can serve (`redisProblem` undefined) and the gateway is not draining. */
export function readiness(redisProblem: string | undefined, draining: boolean): Readiness {
  const redis = redisProblem === undefined;
  return { ready: redis && !draining, redis, draining, ...(redisProblem === undefined ? {} : { redisProblem }) };
}
