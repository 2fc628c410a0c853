import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";
import { pollingHandshake, rawHttp, upgradeSession, websocketHandshake } from "./raw-engine-io.js";

const BURST = 10;
const ATTEMPTS = 3 * BURST;
/** Ways to write "no session yet" that Engine.IO treats as a new session (it reads the last `sid`, empty = none). */
const NEW_SESSION_QUERIES = ["", "&sid=", "&sid", "&sid=abc&sid=", "&sid=&sid="];

describe("per-IP handshake limit: every request that creates an Engine.IO session is counted", () => {
  let stack: Stack;
  const open: WebSocket[] = [];
  beforeAll(async () => {
    // A bucket of BURST that refills once in 1000 s: within a test, exactly BURST sessions per address.
    stack = await startStack({
      gateways: 1,
      workers: 0,
      gatewayEnv: { CONNECT_BURST_PER_IP: String(BURST), CONNECT_RATE_PER_IP_PER_SEC: "0.001" },
    });
  });
  afterAll(async () => {
    for (const ws of open) ws.terminate();
    await stack?.stop();
  });
  const url = () => stack.gateways[0]?.url ?? "";
  const refusedByLimit = async () =>
    value(await scrape(stack.gateways[0]?.metricsPort ?? 0), "agentcast_gateway_limits_total", { limit: "connections_per_ip" });

  it("websocket: a burst with empty or repeated sid parameters opens exactly the burst", async () => {
    const before = await refusedByLimit();
    const localAddress = "127.0.0.21";
    const results = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) =>
        websocketHandshake(url(), `EIO=4&transport=websocket${NEW_SESSION_QUERIES[i % NEW_SESSION_QUERIES.length]}`, { localAddress }),
      ),
    );
    for (const r of results) if (r.outcome === "open") open.push(r.ws);
    const opened = results.filter((r) => r.outcome === "open").length;
    const refused = results.filter((r) => r.outcome === "refused");
    // Engine.IO answers a refused upgrade with 400 and the guard's reason as the body.
    expect({ opened, refused: refused.length, answers: [...new Set(refused.map((r) => `${r.status} ${r.body}`))] }).toEqual({
      opened: BURST,
      refused: ATTEMPTS - BURST,
      answers: ["400 connect_rate"],
    });
    expect(await refusedByLimit()).toBe(before + ATTEMPTS - BURST);
  });

  it("long-polling: the same burst opens exactly the burst", async () => {
    const localAddress = "127.0.0.22";
    const results = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) =>
        pollingHandshake(url(), `EIO=4&transport=polling${NEW_SESSION_QUERIES[i % NEW_SESSION_QUERIES.length]}`, { localAddress }),
      ),
    );
    const sids = new Set(results.flatMap((r) => (r.sid ? [r.sid] : [])));
    expect({ opened: sids.size, refused: results.filter((r) => r.status === 403).length }).toEqual({
      opened: BURST,
      refused: ATTEMPTS - BURST,
    });
  });

  it("polls, upgrades and unknown sids of the same address cost nothing", async () => {
    const localAddress = "127.0.0.23";
    const handshake = () => pollingHandshake(url(), "EIO=4&transport=polling", { localAddress });
    const first = await Promise.all(Array.from({ length: BURST / 2 }, handshake));
    const sids = first.map((r) => r.sid).filter((sid): sid is string => sid !== undefined);
    expect(sids.length).toBe(BURST / 2);
    // Each session: a polling POST, then an upgrade to websocket; plus requests naming sids that do not exist.
    for (const sid of sids) {
      const post = await rawHttp(url(), `/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        body: "6",
        headers: { "content-type": "text/plain;charset=UTF-8" },
        localAddress,
      });
      expect(post).toEqual({ status: 200, body: "ok" });
      open.push(await upgradeSession(url(), sid, { localAddress }));
      const unknown = await rawHttp(url(), `/socket.io/?EIO=4&transport=polling&sid=${sid}x`, { localAddress });
      expect(unknown.status).toBe(400);
    }
    // None of that took a token: the rest of the burst still opens, and then the limit holds.
    const rest = await Promise.all(Array.from({ length: BURST / 2 }, handshake));
    expect(rest.filter((r) => r.sid !== undefined).length).toBe(BURST / 2);
    expect((await handshake()).status).toBe(403);
  });
});
