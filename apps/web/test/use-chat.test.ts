// Issue 17: a small page using @ai-sdk/react's useChat (examples/use-chat, built here with Vite) served by
// the gateways, in Chromium: reloaded mid-stream, it resumes (through the balancer, on either gateway) and
// ends with the run's exact text once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type GatewayProcess,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisServer,
  startTcpBalancer,
  startWorkerProcess,
  type TcpBalancer,
  until,
  type WorkerProcess,
} from "@agentcast/testkit";
import react from "@vitejs/plugin-react";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = resolve(here, "../../../examples/use-chat");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("useChat (AI SDK) against agentcast in Chromium", () => {
  let outDir: string;
  let redis: RedisServerHandle;
  let gateways: GatewayProcess[] = [];
  let worker: WorkerProcess;
  let balancer: TcpBalancer;
  let browser: Browser;
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), "use-chat-"));
    await build({
      root: EXAMPLE,
      configFile: false,
      logLevel: "warn",
      plugins: [react()],
      build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 4096 },
    });
    redis = await startRedisServer();
    gateways = await Promise.all([1, 2].map((i) => startGatewayProcess({ redisUrl: redis.url, id: `gw-${i}`, env: { WEB_ROOT: outDir } })));
    worker = await startWorkerProcess({ redisUrl: redis.url, env: { DEMO_STEP_MS: "150" } });
    balancer = await startTcpBalancer({ backends: gateways.map((g) => g.port) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  });
  afterAll(async () => {
    await browser?.close();
    await balancer?.close();
    await worker?.stop();
    await Promise.all(gateways.map((g) => g.stop()));
    await redis?.[Symbol.asyncDispose]();
    rmSync(outDir, { recursive: true, force: true });
  });

  it("a page reloaded mid-answer resumes the run and shows its text exactly once", { timeout: 90_000 }, async () => {
    const token = await signDevToken("chat-ann");
    const chatId = `chat_${Date.now().toString(36)}`;
    const origin = `http://127.0.0.1:${balancer.port}`;
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.addInitScript((t) => localStorage.setItem("agentcast-token", t), token);
    await page.goto(`${origin}/?chat=${chatId}`);
    await page.fill("#text", "/slow /tools 3 sum 20+22");
    await page.click("button[type=submit]");
    // Part of the answer is on the page (reasoning and a tool call at least): reload now.
    await until(
      "the answer to start streaming",
      async () => (await page.locator(".message[data-role=assistant] .parts").textContent())?.includes("tool-calculator"),
      20_000,
    );
    const before = await page.locator(".message[data-role=assistant]").count();
    expect(before).toBe(1);
    await page.reload();

    await until(
      "the run's end on the page",
      async () =>
        (await page.locator("#status").textContent()) === "ready" &&
        (await page.locator(".message[data-role=assistant] .parts").textContent())?.includes(
          "tool-calculator tool-calculator tool-calculator",
        ),
      60_000,
    );
    const events = (await (
      await fetch(`${origin}/v1/tasks/${chatId}/events?sinceSeq=0`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { events: { type: string; runId: string; data: { delta?: string; status?: string } }[] };
    const end = events.events.at(-1);
    expect(end?.type).toBe("agent_completed");
    const answer = events.events
      .filter((e) => e.type === "agent_output")
      .map((e) => e.data.delta)
      .join("");
    expect(answer).toContain("42");
    const assistants = page.locator(".message[data-role=assistant]");
    expect(await assistants.count()).toBe(1);
    expect(await page.locator(".message[data-role=user]").count()).toBe(1);
    expect(await assistants.first().getAttribute("data-id")).toBe(`msg_${end?.runId}`);
    const shown = (await assistants.first().textContent()) ?? "";
    // The text once: the answer appears exactly one time in the message.
    expect(shown.split(answer).length - 1).toBe(1);
    expect(errors).toEqual([]);
  });
});
