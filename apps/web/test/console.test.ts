import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
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
  type WorkerProcess,
} from "@agentcast/testkit";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const WEB_ROOT = resolve(here, "../dist");
const ARTIFACTS = resolve(here, "../../../test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("web console in real Chromium", () => {
  let redis: RedisServerHandle;
  let gateways: GatewayProcess[];
  let worker: WorkerProcess;
  let browser: Browser;
  let balancer: TcpBalancer;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    redis = await startRedisServer();
    gateways = await Promise.all([1, 2].map((i) => startGatewayProcess({ redisUrl: redis.url, id: `gw-${i}`, env: { WEB_ROOT } })));
    worker = await startWorkerProcess({ redisUrl: redis.url, env: { DEMO_STEP_MS: "120" } });
    balancer = await startTcpBalancer({ backends: gateways.map((g) => g.port) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await balancer?.close();
    await worker?.stop();
    await Promise.all((gateways ?? []).map((g) => g.stop()));
    await redis?.[Symbol.asyncDispose]();
  });

  const openSignedIn = async (url: string, user: string): Promise<Page> => {
    const page = await browser.newPage();
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    await page.goto(url);
    await page.getByLabel("Token (JWT)").fill(await signDevToken(user));
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator(".connection").getAttribute("data-state")).toBe("connected");
    return page;
  };

  it("sign in, ask 6*7: thinking → tool card → question, answer it, completion; no console errors", async () => {
    const page = await openSignedIn(gateways[0]?.url ?? "", "web-alice");
    await page.getByLabel("New task").fill("/ask what is 6*7");
    await page.getByLabel("New task").press("Enter");
    await expect.poll(() => page.locator(".row.thinking").count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const card = page.getByTestId("tool-card").first();
    await expect.poll(() => card.textContent(), { timeout: 15_000 }).toContain("42");
    expect(await page.locator(".row.question").textContent()).toContain("Anything you want me to add");
    const answer = page.getByLabel("Your answer");
    await answer.waitFor({ timeout: 15_000 });
    await page.locator(".progress").screenshot({ path: resolve(ARTIFACTS, "progress.png") });
    await page.screenshot({ path: resolve(ARTIFACTS, "console-mid-run.png"), fullPage: true });
    await answer.fill("show the working");
    await answer.press("Enter");
    await expect.poll(() => page.getByLabel("Status").getAttribute("data-status"), { timeout: 15_000 }).toBe("succeeded");
    expect(await page.locator(".row.output").textContent()).toContain("show the working");
    expect(await page.getByRole("navigation", { name: "Tasks" }).textContent()).toContain("/ask what is 6*7");
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
    await page.close();
  });

  it("reload mid-run: the timeline continues with no duplicate rows", async () => {
    const page = await openSignedIn(gateways[1]?.url ?? "", "web-bob");
    await page.getByLabel("New task").fill("/tools 8 what is 7*7");
    await page.getByLabel("New task").press("Enter");
    await expect.poll(() => page.getByTestId("tool-card").count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await page.reload();
    await expect.poll(() => page.getByLabel("Status").getAttribute("data-status"), { timeout: 30_000 }).toBe("succeeded");
    const rows = await page.locator(".timeline > li").evaluateAll((lis) => lis.map((li) => li.className));
    expect(await page.getByTestId("tool-card").count()).toBe(8);
    expect(rows.filter((r) => r.includes("run"))).toHaveLength(1);
    expect(rows.filter((r) => r.includes("completed"))).toHaveLength(1);
    expect(rows.filter((r) => r.includes("thinking"))).toHaveLength(1);
    // Exactly one run's rows: start, thinking, 8 tool cards, the streamed output, the end — nothing twice.
    expect(rows).toHaveLength(12);
    expect(consoleErrors).toEqual([]);
    // Cancel from the keyboard: the run ends cancelled and the open tool call is closed.
    await page.getByLabel("New task").fill("/slow /tools 5 what is 2*2");
    await page.getByLabel("New task").press("Enter");
    await expect.poll(() => page.getByTestId("tool-card").count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Cancel" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByLabel("Status").getAttribute("data-status"), { timeout: 15_000 }).toBe("cancelled");
    expect(await page.locator(".row.tool.running").count()).toBe(0);
    await page.close();
  });

  it("kill the gateway it talks to mid-run: reconnecting → connected, and the run completes with no gap or duplicate", async () => {
    const [g1, g2] = gateways as [GatewayProcess, GatewayProcess];
    balancer.setBackends([g1.port]); // the page lands on gateway 1
    const page = await openSignedIn(`http://127.0.0.1:${balancer.port}`, "web-carol");
    const states: string[] = [];
    await page.exposeFunction("recordState", (s: string) => states.push(s));
    await page.evaluate(() => {
      const el = document.querySelector(".connection");
      if (!el) return;
      new MutationObserver(() =>
        (window as unknown as { recordState(s: string): void }).recordState(el.getAttribute("data-state") ?? ""),
      ).observe(el, {
        attributes: true,
      });
    });
    await page.getByLabel("New task").fill("/tools 10 what is 8*8");
    await page.getByLabel("New task").press("Enter");
    await expect.poll(() => page.getByTestId("tool-card").count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    balancer.setBackends([g2.port]);
    await g1.kill();
    await expect.poll(() => page.getByLabel("Status").getAttribute("data-status"), { timeout: 30_000 }).toBe("succeeded");
    expect(states).toEqual(expect.arrayContaining(["reconnecting", "connected"]));
    expect(states.indexOf("reconnecting")).toBeLessThan(states.lastIndexOf("connected"));
    expect(await page.getByTestId("tool-card").count()).toBe(10);
    const rows = await page.locator(".timeline > li").evaluateAll((lis) => lis.map((li) => li.className));
    expect(rows).toHaveLength(14); // run, thinking, 10 tool cards, answer, done — each once
    expect(consoleErrors.filter((e) => !e.includes("WebSocket"))).toEqual([]);
    await page.close();
  });
});
