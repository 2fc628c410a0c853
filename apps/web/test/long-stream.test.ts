// A long streamed answer in the web console (issue 15), in real Chromium: the demo agent streams 20,000
// tokens at 1,000 tokens/s through the real worker (coalesced). While it streams the page stays
// interactive — a click on Cancel is handled within 100 ms of the input — and once the run ended the
// answer on screen is exactly the run's text in history, which is exactly what the agent produced.

import type { EventEnvelope } from "@agentcast/protocol";
import { signDevToken } from "@agentcast/testkit";
import { describe, expect, it } from "vitest";
import { send, useConsoleStack, waitForStatus } from "./stack.js";

describe("web console: a 20,000-token answer streaming in real Chromium", () => {
  const stack = useConsoleStack({ gateways: 1, workerEnv: { DEMO_TOKEN_RATE: "1000" } });

  it("stays interactive (Cancel handled within 100 ms mid-stream) and shows exactly the run's text", { timeout: 90_000 }, async () => {
    const page = await stack.openSignedIn(stack.gateways[0]?.url ?? "", "web-stream");
    await send(page, "New task", "/stream 20000");
    const answer = page.locator(".row.output");
    const shown = () => answer.evaluate((li) => li.lastChild?.textContent ?? "").catch(() => "");
    await expect.poll(async () => (await shown()).length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(10_000);

    // The delay between the click's input event and its handler: main-thread time the stream took from it.
    const cancel = page.getByRole("button", { name: "Cancel" });
    await cancel.evaluate((button) => {
      button.addEventListener(
        "click",
        (e) => {
          (window as unknown as { clickDelayMs: number }).clickDelayMs = performance.now() - e.timeStamp;
        },
        { capture: true, once: true },
      );
    });
    await cancel.click();
    const clickDelayMs = await page.evaluate(() => (window as unknown as { clickDelayMs?: number }).clickDelayMs);
    expect(clickDelayMs).toBeDefined();
    expect(clickDelayMs).toBeLessThan(100);
    await waitForStatus(page, "cancelled");

    const taskId = await page.locator(".task h2").evaluate((h) => h.textContent?.replace(/^Task /, "") ?? "");
    const res = await fetch(`${stack.gateways[0]?.url}/v1/tasks/${taskId}/events?sinceSeq=0&limit=1000`, {
      headers: { authorization: `Bearer ${await signDevToken("web-stream")}` },
    });
    const { events } = (await res.json()) as { events: EventEnvelope[] };
    let text = "";
    for (const e of events)
      if (e.type === "agent_output") text = (e.data as { snapshot?: true }).snapshot ? e.data.delta : text + e.data.delta;
    const ended = events.at(-1);
    expect(ended?.data).toEqual({ status: "cancelled", result: { outputChars: text.length } });
    expect(text.length).toBeGreaterThan(10_000);
    // Rendered as markdown once the run ended: one paragraph whose text is the run's, but for the
    // whitespace at its ends, which a paragraph does not show.
    await expect.poll(async () => (await shown()).trim()).toBe(text.trim());
  });
});
