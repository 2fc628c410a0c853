import { mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
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
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const WEB_ROOT = resolve(here, "../dist");
export const ARTIFACTS = resolve(here, "../../../test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** What Chromium logs when a connection attempt fails — expected only while a test cuts the network. */
const NETWORK_FAILURE = [/^WebSocket connection to '.*' failed/, /^Failed to load resource: net::ERR_/];

export interface ConsoleStack {
  redis: RedisServerHandle;
  gateways: GatewayProcess[];
  worker: WorkerProcess;
  /** A TCP balancer in front of every gateway. */
  balancer: TcpBalancer;
  browser: Browser;
  /** A fresh browser context (own sessionStorage, own network) on `url`; its console is watched. */
  open(url: string, opts?: { viewport?: { width: number; height: number } }): Promise<Page>;
  /** Opens `url` and signs in as `user` through the form. */
  openSignedIn(url: string, user: string, opts?: { viewport?: { width: number; height: number } }): Promise<Page>;
  /** This test cuts the network on purpose: Chromium's connection-failure messages are not errors. */
  allowNetworkFailures(): void;
}

/**
 * One local stack per test file (Redis, gateways serving the built console, a worker, a balancer,
 * Chromium). After every test: any console error or uncaught page error fails it.
 */
export function useConsoleStack(opts: { gateways?: number; stepMs?: number; workerEnv?: Record<string, string> } = {}): ConsoleStack {
  const stack = {} as ConsoleStack;
  let contexts: BrowserContext[] = [];
  let errors: string[] = [];
  let allowNetwork = false;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack.redis = await startRedisServer();
    const ids = Array.from({ length: opts.gateways ?? 2 }, (_, i) => i + 1);
    stack.gateways = await Promise.all(
      ids.map((i) => startGatewayProcess({ redisUrl: stack.redis.url, id: `gw-${i}`, env: { WEB_ROOT } })),
    );
    stack.worker = await startWorkerProcess({
      redisUrl: stack.redis.url,
      env: { DEMO_STEP_MS: String(opts.stepMs ?? 120), ...opts.workerEnv },
    });
    stack.balancer = await startTcpBalancer({ backends: stack.gateways.map((g) => g.port) });
    stack.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  afterAll(async () => {
    await stack.browser?.close();
    await stack.balancer?.close();
    await stack.worker?.stop();
    await Promise.all((stack.gateways ?? []).map((g) => g.stop()));
    await stack.redis?.[Symbol.asyncDispose]();
  });
  afterEach(async () => {
    const seen = allowNetwork ? errors.filter((e) => !NETWORK_FAILURE.some((re) => re.test(e))) : errors;
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
    errors = [];
    allowNetwork = false;
    expect(seen, `console errors:\n${seen.join("\n")}`).toEqual([]);
  });

  stack.open = async (url, o = {}) => {
    const context = await stack.browser.newContext(o.viewport ? { viewport: o.viewport } : {});
    contexts.push(context);
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(`pageerror: ${String(e)}`));
    await page.goto(url);
    return page;
  };
  stack.openSignedIn = async (url, user, o) => {
    const page = await stack.open(url, o);
    await page.getByLabel("Token (JWT)").fill(await signDevToken(user));
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => connection(page)).toBe("connected");
    return page;
  };
  stack.allowNetworkFailures = () => {
    allowNetwork = true;
  };
  return stack;
}

export const connection = (page: Page) => page.locator(".connection").getAttribute("data-state");
export const status = (page: Page) => page.getByLabel("Status").getAttribute("data-status");
export const toolCards = (page: Page) => page.getByTestId("tool-card").count();

/** The timeline's rows in DOM order, by kind: run, thinking, tool, output, question, completed, error. */
export const rowKinds = (page: Page) =>
  page.locator(".timeline > li").evaluateAll((lis) => lis.map((li) => li.classList[1] ?? li.className));

/** Types into the composer labelled `label` and sends with Enter. */
export async function send(page: Page, label: "New task" | "Follow up", text: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).fill(text);
  await page.getByLabel(label, { exact: true }).press("Enter");
}

export async function waitForStatus(page: Page, expected: string, timeout = 20_000): Promise<void> {
  await expect.poll(() => status(page), { timeout }).toBe(expected);
}

/** Every value the connection indicator shows from now on, in order (a MutationObserver in the page). */
export async function recordStates(page: Page): Promise<string[]> {
  const states: string[] = [];
  await page.exposeFunction("recordState", (s: string) => states.push(s));
  await page.evaluate(() => {
    const el = document.querySelector(".connection");
    if (!el) throw new Error("no connection indicator");
    const record = (window as unknown as { recordState(s: string): void }).recordState;
    new MutationObserver(() => record(el.getAttribute("data-state") ?? "")).observe(el, { attributes: true });
  });
  return states;
}

/**
 * A PNG checked end to end (signature, IHDR, IDAT inflating to exactly every row) with its size and
 * how many distinct byte values its pixel data holds (a blank image filters down to a handful).
 */
export function readPng(path: string): { width: number; height: number; bytes: number; distinctBytes: number } {
  const buf = readFileSync(path);
  expect(buf.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  expect(buf.toString("latin1", 12, 16)).toBe("IHDR");
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const [bitDepth, colorType] = [buf[24], buf[25]];
  expect(bitDepth).toBe(8);
  const channels = { 2: 3, 6: 4 }[colorType as 2 | 6];
  expect(channels, `colour type ${colorType}`).toBeDefined();
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    if (buf.toString("latin1", at + 4, at + 8) === "IDAT") idat.push(buf.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  expect(pixels.length).toBe(height * (1 + width * (channels ?? 0)));
  return { width, height, bytes: buf.length, distinctBytes: new Set(pixels).size };
}
