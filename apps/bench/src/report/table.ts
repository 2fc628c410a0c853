import { SYSTEM_LABELS, type SystemName } from "../systems/system.js";
import { TOKEN_SYSTEM_LABELS, type TokenSystemName } from "../systems/token-systems.js";
import type { BenchResults } from "./results.js";

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const label = (s: string) => SYSTEM_LABELS[s as SystemName] ?? s;
const table = (head: string[], rows: string[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

/** The markdown report: one table per scenario that ran. */
export function formatTables(r: BenchResults): string {
  const out: string[] = [];
  if (r.sweep) {
    out.push("### Throughput / latency sweep");
    out.push(
      table(
        ["system", "offered/s", "published/s", "delivered/s", "lost", "dup", "p50 ms", "p99 ms", "max ms", "ok"],
        r.sweep.steps.map((s) => [
          label(s.system),
          int(s.offered),
          int(s.publishedPerSec) + (s.publisherBehind ? " (behind)" : ""),
          int(s.deliveredPerSec),
          int(s.lost),
          int(s.duplicates),
          f(s.p50Ms),
          f(s.p99Ms),
          f(s.maxMs),
          s.pass ? "yes" : "no",
        ]),
      ),
    );
    const loaded = r.sweep.steps.filter((s) => s.redis.length > 0);
    if (loaded.length > 0) {
      out.push("");
      out.push("Redis per node during each agentcast step (publish-script calls; CPU of the whole node ÷ its calls):");
      out.push(
        table(
          ["system", "offered/s", "node", "share of publishes", "Redis CPU µs/event", "Redis CPU % of a core"],
          loaded.flatMap((s) =>
            s.redis.map((n) => [
              label(s.system),
              int(s.offered),
              n.address,
              `${f(n.publishShare * 100, 0)} %`,
              f(n.cpuUsPerEvent),
              f(n.cpuPercent, 0),
            ]),
          ),
        ),
      );
    }
    out.push("");
    out.push("Highest offered rate with 0 lost, 0 duplicates and p99 ≤ 50 ms:");
    out.push(
      table(
        ["system", "events/s"],
        Object.entries(r.sweep.best).map(([s, v]) => [label(s), v > 0 ? int(v) : "none"]),
      ),
    );
  }
  if (r.idle) {
    out.push("### Idle connections (one server process)");
    out.push(
      table(
        ["system", "connections", "opened", "failed", "connect/s", "RSS KB/conn", "heap KB/conn", "RSS total MB"],
        r.idle.map((i) => [
          label(i.system),
          int(i.connections),
          int(i.opened),
          int(i.failed),
          int(i.connectPerSec),
          f(i.rssPerConnKB),
          f(i.heapPerConnKB),
          f(i.rssTotalMB, 0),
        ]),
      ),
    );
  }
  if (r.isolation) {
    out.push("### Pod isolation (share of all published events each server's Redis subscriber received)");
    out.push(
      table(
        ["system", "servers", "published", "lost", "shares", "max share"],
        r.isolation.map((i) => [
          label(i.system),
          int(i.servers),
          int(i.published),
          int(i.lost),
          i.shares.map((s) => f(s, 2)).join(" / "),
          f(i.maxShare, 2),
        ]),
      ),
    );
  }
  if (r.storm) {
    const s = r.storm;
    out.push("### Reconnect storm (agentcast: SIGKILL gateway A, clients resume on B)");
    out.push(
      table(
        ["clients", "tasks", "published", "reconnected", "retries", "gave up", "caught up in s (p50 / p90 / all)", "lost", "dup"],
        [
          [
            int(s.clients),
            int(s.tasks),
            int(s.published),
            int(s.reconnected),
            int(s.retries),
            int(s.gaveUp),
            `${f(s.caughtUpP50Seconds, 2)} / ${f(s.caughtUpP90Seconds, 2)} / ${s.allCaughtUp ? f(s.caughtUpSeconds, 2) : `not all (${f(s.caughtUpSeconds, 2)})`}`,
            int(s.lost),
            int(s.duplicates),
          ],
        ],
      ),
    );
  }
  if (r.fanout) {
    out.push("### Fan-out (one room/task, watchers across 2 servers)");
    out.push(
      table(
        ["system", "watchers", "events/s", "deliveries/s", "lost", "dup", "p50 ms", "p99 ms"],
        r.fanout.map((s) => [
          label(s.system),
          int(s.watchers),
          int(s.publishedPerSec),
          int(s.deliveredPerSec),
          int(s.lost),
          int(s.duplicates),
          f(s.p50Ms),
          f(s.p99Ms),
        ]),
      ),
    );
  }
  if (r.llm) {
    const l = r.llm;
    const tlabel = (s: string) => TOKEN_SYSTEM_LABELS[s as TokenSystemName] ?? s;
    out.push(
      `### LLM token streams (${l.rate} tokens/s of 4 bytes per stream, ${int(l.tokensPerStream)} tokens each, one client per stream over 2 servers)`,
    );
    out.push(
      table(
        [
          "system",
          "streams",
          "tokens delivered",
          "lost chars",
          "dup tokens",
          "frames/stream/s",
          "p50 ms",
          "p99 ms",
          "max ms",
          "CPU µs/token",
          "CPU % of a core",
          "ok",
        ],
        l.steps.map((s) => [
          tlabel(s.system),
          int(s.streams),
          `${int(s.tokens)} / ${int(s.expectedTokens)}`,
          int(s.lostChars),
          int(s.duplicateTokens),
          f(s.framesPerStreamPerSec),
          f(s.p50Ms),
          f(s.p99Ms),
          f(s.maxMs),
          f(s.cpuUsPerToken),
          f(s.cpuPercent, 0),
          s.pass ? "yes" : "no",
        ]),
      ),
    );
    out.push("");
    out.push(`Most concurrent streams with 0 lost characters, 0 duplicates and p99 token latency ≤ ${l.p99LimitMs} ms:`);
    out.push(
      table(
        ["system", "streams"],
        Object.entries(l.best).map(([s, v]) => [tlabel(s), v > 0 ? int(v) : "none"]),
      ),
    );
  }
  for (const e of r.errors) out.push(`**${e.scenario} failed**: ${e.message.split("\n")[0]}`);
  return out.join("\n\n").replace(/\n\n\n+/g, "\n\n");
}
