import type { GatewayProcess } from "@agentcast/testkit";
import { describe, expect, it } from "vitest";
import { connection, recordStates, rowKinds, send, toolCards, useConsoleStack, waitForStatus } from "./stack.js";

/** `states` holds `expected` as a subsequence (in that order, other states may sit in between). */
function expectInOrder(states: string[], expected: string[]): void {
  let at = 0;
  for (const s of states) if (s === expected[at]) at++;
  expect(at, `${JSON.stringify(expected)} in order within ${JSON.stringify(states)}`).toBe(expected.length);
}

describe("web console in real Chromium: the connection indicator and seamless resume", () => {
  const stack = useConsoleStack();

  it("every gateway unreachable → reconnecting; the browser offline → offline; back → connected, and the run completes", async () => {
    stack.allowNetworkFailures();
    const { balancer, gateways } = stack;
    const page = await stack.openSignedIn(`http://127.0.0.1:${balancer.port}`, "web-erin");
    const indicator = page.locator(".connection");
    const states = await recordStates(page);
    let attempts = 0; // connection attempts the page makes (each try of the client opens a websocket first)
    page.on("websocket", () => attempts++);
    /** Waits until the client has made `n` more attempts: proof that it kept retrying meanwhile. */
    const moreAttempts = async (n: number) => {
      const from = attempts;
      await expect.poll(() => attempts, { timeout: 30_000, message: `${n} more connection attempts` }).toBeGreaterThanOrEqual(from + n);
    };
    await send(page, "New task", "/slow /tools 4 what is 3*3");
    await expect.poll(() => toolCards(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);

    // No gateway answers (the balancer has no backend and drops the open connection).
    balancer.setBackends([]);
    balancer.cut();
    await expect.poll(() => connection(page)).toBe("reconnecting");
    // Retrying against nothing: after two more failed attempts it is still reconnecting, and never showed
    // "connected" or "offline" in between.
    const sinceCut = states.length;
    await moreAttempts(2);
    expect(await connection(page)).toBe("reconnecting");
    expect(await indicator.textContent()).toContain("reconnecting");
    expect(states.slice(sinceCut).filter((s) => s !== "reconnecting")).toEqual([]);

    // The browser loses its network: offline, however many retries fail meanwhile.
    await page.context().setOffline(true);
    await expect.poll(() => connection(page)).toBe("offline");
    expect(await indicator.textContent()).toContain("offline");
    expect(await indicator.locator(".dot").evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(220, 38, 38)");
    // Offline however many retries fail meanwhile: one more attempt fails and it still says offline.
    const sinceOffline = states.length;
    await moreAttempts(1);
    expect(await connection(page)).toBe("offline");
    expect(states.slice(sinceOffline).filter((s) => s !== "offline")).toEqual([]);

    // Network back, gateways still away: reconnecting again; gateways back: connected.
    await page.context().setOffline(false);
    await expect.poll(() => connection(page)).toBe("reconnecting");
    balancer.setBackends(gateways.map((g) => g.port));
    await expect.poll(() => connection(page), { timeout: 20_000 }).toBe("connected");
    expect(await indicator.textContent()).toContain("connected");
    expectInOrder(states, ["reconnecting", "offline", "reconnecting", "connected"]);

    // The run went on without us: the page catches up, every row once.
    await waitForStatus(page, "succeeded", 30_000);
    expect(await rowKinds(page)).toEqual(["run", "thinking", "tool", "tool", "tool", "tool", "output", "completed"]);
    expect(await page.locator(".row.output").textContent()).toContain("3*3 = 9.");
  });

  it("kill the gateway it talks to mid-run: reconnecting → connected, and the run completes with no gap or duplicate", async () => {
    stack.allowNetworkFailures();
    const [g1, g2] = stack.gateways as [GatewayProcess, GatewayProcess];
    stack.balancer.setBackends([g1.port]); // the page lands on gateway 1
    const page = await stack.openSignedIn(`http://127.0.0.1:${stack.balancer.port}`, "web-carol");
    const states = await recordStates(page);
    await send(page, "New task", "/tools 10 what is 8*8");
    await expect.poll(() => toolCards(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    stack.balancer.setBackends([g2.port]);
    await g1.kill();
    await waitForStatus(page, "succeeded", 30_000);
    expectInOrder(states, ["reconnecting", "connected"]);
    expect(states).not.toContain("offline");
    expect(await toolCards(page)).toBe(10);
    // run, thinking, 10 tool cards, answer, done — each once
    expect(await rowKinds(page)).toEqual(["run", "thinking", ...Array(10).fill("tool"), "output", "completed"]);
  });
});
