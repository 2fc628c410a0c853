import { createKeys, type RunJobData, runQueueName } from "@agentcast/store";
import { signDevToken, until } from "@agentcast/testkit";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

describe("GET /v1/stats: exact numbers for a known set of sockets, and the queue as BullMQ counts it", () => {
  let stack: Stack;
  let queue: Queue<RunJobData>;
  let admin: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON body, asserted field by field
  const stats = async (gateway = 0): Promise<any> => {
    const res = await stack.http("/v1/stats", { token: admin, gateway });
    expect(res.status).toBe(200);
    return res.body;
  };
  const perGateway = (body: { gateways: { gatewayId: string; connections: number; rooms: number }[] }) =>
    body.gateways.map(({ gatewayId, connections, rooms }) => ({ gatewayId, connections, rooms }));

  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1 });
    queue = new Queue(runQueueName(0), { connection: { url: stack.redis.url }, prefix: createKeys().queuePrefix });
    admin = await signDevToken("root", { claims: { role: "admin" } });
  });
  afterAll(async () => {
    await queue?.close();
    await stack?.stop();
  });

  it("admin only", async () => {
    expect(await stack.http("/v1/stats", { userId: "alice" })).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await stack.http("/v1/stats")).toMatchObject({ status: 401 });
  });

  it("nothing connected: zero connections and rooms on both gateways", async () => {
    const body = await stats();
    expect(body).toMatchObject({ gatewayId: "gw-1", connections: 0, rooms: 0 });
    expect(perGateway(body)).toEqual([
      { gatewayId: "gw-1", connections: 0, rooms: 0 },
      { gatewayId: "gw-2", connections: 0, rooms: 0 },
    ]);
  });

  it("counts each socket once and each user and task room once per gateway; the answering gateway is current", async () => {
    // gw-1: alice ×2 and bob (rooms: user:alice, user:bob, alice's task). gw-2: alice (user:alice, same task).
    const a1 = await stack.client("alice", 0);
    await stack.client("alice", 0);
    await stack.client("bob", 0);
    const a3 = await stack.client("alice", 1);
    const ack = await a1.command("user_message", { text: "what is 2+3" });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await a1.collectRun(ack.taskId);
    expect(await a3.command("subscribe", { taskId: ack.taskId })).toMatchObject({ ok: true });
    // Its own numbers are read at request time: no wait for a heartbeat.
    expect(perGateway(await stats(0))[0]).toEqual({ gatewayId: "gw-1", connections: 3, rooms: 3 });
    expect(perGateway(await stats(1))[1]).toEqual({ gatewayId: "gw-2", connections: 1, rooms: 2 });
    // The other gateway's numbers arrive with its next heartbeat (every 5 s).
    const expected = [
      { gatewayId: "gw-1", connections: 3, rooms: 3 },
      { gatewayId: "gw-2", connections: 1, rooms: 2 },
    ];
    await until("both gateways' heartbeats", async () => JSON.stringify(perGateway(await stats(0))) === JSON.stringify(expected), 12_000);
    expect(await stats(0)).toMatchObject({ connections: 4, rooms: 5 });
    // The same numbers as each gateway's own gauges.
    for (const [i, g] of stack.gateways.entries()) {
      const m = await scrape(g.metricsPort);
      expect([value(m, "agentcast_gateway_connections"), value(m, "agentcast_gateway_rooms")]).toEqual([
        expected[i]?.connections,
        expected[i]?.rooms,
      ]);
    }
    a3.disconnect();
    await until(
      "gw-2 to drop its socket and rooms",
      async () => {
        const body = await stats(1);
        return JSON.stringify(perGateway(body)[1]) === JSON.stringify({ gatewayId: "gw-2", connections: 0, rooms: 0 });
      },
      12_000,
    );
  });

  it("queue counts equal BullMQ getJobCounts, including jobs waiting while no worker runs", async () => {
    await until("the queue to settle", async () => (await queue.getJobCounts("active", "waiting")).active === 0, 12_000);
    const settled = await queue.getJobCounts();
    expect((await stats()).queue).toEqual(settled);
    expect(settled.completed).toBe(1);

    await stack.workers[0]?.stop();
    for (const text of ["one 1+1", "two 2+2"]) {
      expect((await stack.http("/v1/tasks", { userId: "carol", body: { text } })).status).toBe(202);
    }
    const counts = await queue.getJobCounts();
    expect(counts).toMatchObject({ waiting: 2, active: 0, completed: 1, failed: 0 });
    expect((await stats(0)).queue).toEqual(counts);
    expect((await stats(1)).queue).toEqual(counts);
  });
});
