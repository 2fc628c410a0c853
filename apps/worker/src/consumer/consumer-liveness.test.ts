// ConsumerLiveness against a real BullMQ worker and Redis: a close that is not the process's own shutdown
// is a dead consumer; a shutdown is not.
import { type RedisServerHandle, startRedisServer } from "@agentcast/testkit";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsumerLiveness } from "./consumer-liveness.js";

let server: RedisServerHandle;
const clients: Redis[] = [];
let n = 0;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server?.[Symbol.asyncDispose]();
});

function watched() {
  const connection = new Redis(server.url, { maxRetriesPerRequest: null });
  clients.push(connection);
  const worker = new Worker(`liveness-${++n}`, async () => "done", { connection, autorun: false });
  let stops = 0;
  const consumer = new ConsumerLiveness(worker, pino({ level: "silent" }), () => stops++);
  consumer.start();
  return { worker, consumer, stops: () => stops };
}

describe("ConsumerLiveness", () => {
  it("up while the loop runs; down, counted once, when the worker closes while the process is not stopping", async () => {
    const { worker, consumer, stops } = watched();
    await worker.waitUntilReady();
    expect(worker.isRunning()).toBe(true);
    expect(consumer.health()).toEqual({ ok: true });
    await worker.close();
    expect(consumer.health()).toEqual({ ok: false, reason: expect.stringMatching(/^the job consumer (loop ended|closed)$/) });
    expect(stops()).toBe(1);
  });

  it("stays up through the process's own shutdown", async () => {
    const { worker, consumer, stops } = watched();
    await worker.waitUntilReady();
    consumer.stop();
    await worker.close();
    expect(consumer.health()).toEqual({ ok: true });
    expect(stops()).toBe(0);
  });
});
