import { createServer } from "node:net";

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * `n` ports for Redis Cluster nodes: each one's cluster-bus port (port + 10000) is free too, both below the
 * kernel's ephemeral range (32768+) so no outgoing connection takes one in the meantime.
 */
export async function freeClusterPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; ports.length < n && i < n * 200; i++) {
    const p = 20_000 + Math.floor(Math.random() * 2_700);
    if (!ports.includes(p) && (await isFree(p)) && (await isFree(p + 10_000))) ports.push(p);
  }
  if (ports.length < n) throw new Error(`could not find ${n} free port pairs for a cluster`);
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
