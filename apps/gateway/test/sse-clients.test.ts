// Issue 17: the SSE stream with the clients people use on it — `curl -N`, and a browser's own `EventSource`
// (Chromium) that loses its gateway to a SIGKILL mid-run and resumes through the balancer on the other one.
import { spawn } from "node:child_process";
import { EVENT_TYPES, type EventEnvelope } from "@agentcast/protocol";
import { startTcpBalancer, type TcpBalancer, until } from "@agentcast/testkit";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, seqProblem, startStack } from "./fixture.js";
import { scrape, value } from "./metrics.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("SSE with real clients", () => {
  let stack: Stack;
  let balancer: TcpBalancer;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startStack({ gateways: 2, workers: 1, workerEnv: { DEMO_STEP_MS: "150" } });
    balancer = await startTcpBalancer({ backends: stack.gateways.map((g) => g.port) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  });
  afterAll(async () => {
    await browser?.close();
    await balancer?.close();
    await stack?.stop();
  });

  const start = async (userId: string, text: string) => {
    const res = await stack.http("/v1/tasks", { userId, body: { text } });
    expect(res.status).toBe(202);
    return res.body as { taskId: string; runId: string };
  };
  const history = async (userId: string, taskId: string) =>
    (await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=0`, { userId })).body.events as EventEnvelope[];

  it("curl -N prints the run as it happens and ends with ?follow=run", async () => {
    const { taskId } = await start("curl-amy", "/tools 2 sum 1+2");
    const token = await stack.token("curl-amy");
    const curl = spawn("curl", [
      "-sN",
      "-H",
      `Authorization: Bearer ${token}`,
      `${stack.gateways[1]?.url}/v1/tasks/${taskId}/stream?follow=run`,
    ]);
    let out = "";
    curl.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => curl.once("close", resolve));
    expect(code).toBe(0);
    const ids = [...out.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const events = [...out.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as EventEnvelope);
    expect(events).toEqual(await history("curl-amy", taskId));
    expect(ids).toEqual(events.map((e) => e.seq));
    expect(out).toMatch(/event: agent_completed\ndata: .*\n\n$/);
  });

  it("a browser EventSource with a read token resumes on the other gateway after its gateway is SIGKILLed: the run once, in order", {
    timeout: 90_000,
  }, async () => {
    const { taskId } = await start("es-bea", "/slow /tools 4 sum 2+2");
    const { token } = (await stack.http(`/v1/tasks/${taskId}/read-tokens`, { userId: "es-bea", body: { ttlSeconds: 300 } })).body as {
      token: string;
    };
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${balancer.port}/healthz`);
    await page.evaluate(
      ({ path, types }) => {
        const w = globalThis as unknown as { events: unknown[]; errors: number; ids: string[] };
        w.events = [];
        w.errors = 0;
        w.ids = [];
        const es = new EventSource(path);
        es.onerror = () => {
          w.errors++;
        };
        for (const type of types)
          es.addEventListener(type, (e) => {
            const m = e as unknown as { data: string; lastEventId: string };
            w.events.push(JSON.parse(m.data));
            w.ids.push(m.lastEventId);
            if (type === "agent_completed" || type === "agent_error") es.close();
          });
      },
      { path: `/v1/tasks/${taskId}/stream?token=${encodeURIComponent(token)}`, types: [...EVENT_TYPES] },
    );
    const count = () => page.evaluate(() => (globalThis as unknown as { events: unknown[] }).events.length);
    await until("the browser to receive 3 events", async () => (await count()) >= 3, 20_000);
    // The gateway holding the stream (the balancer picked it): SIGKILL it mid-run.
    const holding = await until("the gateway holding the stream", async () => {
      for (const g of stack.gateways) {
        const open = value(await scrape(g.metricsPort), "agentcast_gateway_http_streams", { protocol: "sse" });
        if (open === 1) return g;
      }
      return undefined;
    });
    const before = await count();
    await holding.kill();
    const events = await until(
      "the run's end in the browser",
      async () => {
        const got = await page.evaluate(() => (globalThis as unknown as { events: EventEnvelope[] }).events);
        return got.at(-1)?.type === "agent_completed" ? got : undefined;
      },
      60_000,
    );
    const { errors, ids } = await page.evaluate(() => {
      const w = globalThis as unknown as { errors: number; ids: string[] };
      return { errors: w.errors, ids: w.ids };
    });
    expect(errors).toBeGreaterThanOrEqual(1); // it did lose its connection…
    expect(events.length).toBeGreaterThan(before); // …and got the rest after resuming
    expect(ids).toEqual(events.map((e) => String(e.seq)));
    expect(
      seqProblem(
        events.map((e) => e.seq),
        1,
        events.length,
      ),
    ).toBeNull();
    const survivor = stack.gateways.findIndex((g) => g !== holding);
    const all = (await stack.http(`/v1/tasks/${taskId}/events?sinceSeq=0`, { userId: "es-bea", gateway: survivor })).body.events;
    expect(events).toEqual(all);
  });
});
