import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Resident set size of a process in bytes, from /proc (the same way for every system). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : Number.NaN;
}

/** CPU time (user + system) of a process in seconds, from /proc/<pid>/stat. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Bytes the kernel has received on the established loopback TCP connection from `addr`
 * ("127.0.0.1:port", the client side) to `peerPort`; NaN when no such connection is found.
 */
export async function tcpBytesReceived(addr: string, peerPort: number): Promise<number> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const { stdout } = await run("ss", ["-tinH", "state", "established", "src", addr, "dst", `127.0.0.1:${peerPort}`]);
    const m = /bytes_received:(\d+)/.exec(stdout);
    if (m) return Number(m[1]);
  }
  return Number.NaN;
}

/** A Prometheus text-format sample value (first match), NaN when absent. */
export async function scrapeMetric(metricsPort: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await res.text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : Number.NaN;
}
