import { resolve } from "node:path";
import { signDevToken } from "@agentcast/testkit";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ARTIFACTS, connection, rowKinds, status, toolCards, useConsoleStack, waitForStatus } from "./stack.js";

const PHONE = { width: 375, height: 800 };

/** The page does not scroll sideways, and every visible control lies fully inside the viewport's width. */
async function expectFitsWidth(page: Page): Promise<void> {
  const { scrollWidth, clientWidth } = await page.evaluate(() => {
    const { scrollWidth, clientWidth } = document.documentElement;
    return { scrollWidth, clientWidth };
  });
  expect(scrollWidth, "horizontal scroll").toBeLessThanOrEqual(clientWidth);
  const outside = await page.locator("button, input, textarea, progress, .row").evaluateAll((els) =>
    els
      .filter((el) => el.getClientRects().length > 0)
      .map((el) => ({ el, box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.left < 0 || box.right > document.documentElement.clientWidth)
      .map(({ el, box }) => `${el.outerHTML.slice(0, 80)} [${box.left}, ${box.right}]`),
  );
  expect(outside).toEqual([]);
}

/** Presses Tab until the focused element matches `selector` (fails after `max` presses). */
async function tabTo(page: Page, selector: string, max = 30): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** Tabs once around the page: every enabled, visible control must receive focus. */
async function expectAllControlsTabbable(page: Page): Promise<void> {
  const total = await page.locator("button, input, textarea").evaluateAll((els) => {
    const controls = els.filter((el) => el.getClientRects().length > 0 && !(el as HTMLButtonElement).disabled);
    for (const [i, el] of controls.entries()) el.setAttribute("data-control", String(i));
    return controls.length;
  });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached = new Set<string>();
  for (let i = 0; i < total + 3; i++) {
    await page.keyboard.press("Tab");
    const k = await page.evaluate(() => document.activeElement?.getAttribute("data-control"));
    if (k) reached.add(k);
  }
  expect(reached.size, `${reached.size} of ${total} controls reached with Tab`).toBe(total);
}

describe("web console in real Chromium: a phone-sized viewport, driven by the keyboard alone", () => {
  const stack = useConsoleStack({ gateways: 1 });

  it("375×800: no horizontal scroll, every control reachable; sign in, send, answer and follow up with the keyboard", async () => {
    const page = await stack.open(stack.gateways[0]?.url ?? "", { viewport: PHONE });
    await expectFitsWidth(page);

    // Sign in: Tab to the token box, paste, Tab to the button, Enter.
    await tabTo(page, "textarea");
    await page.keyboard.insertText(await signDevToken("web-frank"));
    await tabTo(page, "button[type=submit]");
    await page.keyboard.press("Enter");
    await expect.poll(() => connection(page)).toBe("connected");

    // Start a task: Tab to "New task", type, Tab to Send, Space. A long unbroken word must wrap, not widen the page.
    await tabTo(page, "main form.composer input");
    await page.keyboard.type("/ask /tools 3 what is 6*7 and_a_long_unbroken_identifier_that_must_wrap_on_a_phone_screen");
    await tabTo(page, "main form.composer button[type=submit]");
    await page.keyboard.press("Space");
    await page.locator(".row.question").waitFor({ timeout: 15_000 });
    expect(await toolCards(page)).toBe(3);
    expect(await status(page)).toBe("waiting_for_user");
    await page.screenshot({ path: resolve(ARTIFACTS, "console-phone.png"), fullPage: true });
    await expectFitsWidth(page);
    await expectAllControlsTabbable(page);

    // Answer with the keyboard: Tab to the answer box, type, Enter.
    await tabTo(page, ".answer input");
    await page.keyboard.type("thanks");
    await page.keyboard.press("Enter");
    await waitForStatus(page, "succeeded");
    expect(await page.locator(".row.output").textContent()).toContain("You said: thanks");
    await expectFitsWidth(page);
    await expectAllControlsTabbable(page);

    // Follow up with the keyboard: Tab to the "Follow up" composer, type, Enter.
    const followUpId = await page.getByLabel("Follow up", { exact: true }).getAttribute("id");
    await tabTo(page, `[id="${followUpId}"]`);
    await page.keyboard.type("what is 5*5");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator(".row.completed").count(), { timeout: 15_000 }).toBe(2);
    expect((await rowKinds(page)).filter((k) => k === "run")).toHaveLength(2);
    expect(await page.locator(".row.output").nth(1).textContent()).toContain("5*5 = 25");
    await expectFitsWidth(page);
  });
});
