import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpBalancer {
  readonly port: number;
  /** Replaces the backend ports (127.0.0.1). */
  setBackends(ports: number[]): void;
  /** Drops every open connection at once (both directions), as a network failure would. */
  cut(): void;
  /** Refuses new connections for `ms` (they are reset on accept): a network outage. */
  block(ms: number): void;
  /**
   * A blackhole (`true`) or its end (`false`): bytes stop moving both ways on every connection, old and
   * new, but nothing is closed or reset — held, as TCP would retransmit them once the path heals.
   */
  blackhole(on: boolean): void;
  /** Connections currently proxied. */
  readonly open: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A round-robin TCP load balancer on loopback: each connection goes to the next backend that
 * accepts it (websocket upgrades pass through untouched). For local stacks and fault tests.
 */
export async function startTcpBalancer(opts: { backends: number[]; port?: number; host?: string }): Promise<TcpBalancer> {
  let backends = [...opts.backends];
  let next = 0;
  let blockedUntil = 0;
  let holed = false;
  const pairs = new Set<[Socket, Socket]>();

  const dial = (client: Socket, attempt: number) => {
    if (attempt >= backends.length) {
      client.destroy();
      return;
    }
    const port = backends[next++ % backends.length] as number;
    const upstream = connect({ port, host: "127.0.0.1" });
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      const drop = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      client.pipe(upstream).pipe(client);
      client.resume();
      if (holed) for (const s of pair) s.pause();
    });
    upstream.once("error", () => {
      if (!connected) dial(client, attempt + 1); // refused: try the next backend
    });
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    client.on("error", () => client.destroy());
    if (Date.now() < blockedUntil || backends.length === 0) {
      client.resetAndDestroy();
      return;
    }
    dial(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const balancer: TcpBalancer = {
    port,
    setBackends(ports) {
      backends = [...ports];
    },
    cut() {
      for (const [a, b] of pairs) {
        a.resetAndDestroy();
        b.destroy();
      }
      pairs.clear();
    },
    block(ms) {
      blockedUntil = Date.now() + ms;
    },
    blackhole(on) {
      holed = on;
      for (const pair of pairs) for (const s of pair) on ? s.pause() : s.resume();
    },
    get open() {
      return pairs.size;
    },
    async close() {
      balancer.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]: () => balancer.close(),
  };
  return balancer;
}
