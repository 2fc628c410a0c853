import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { signDevToken } from "@agentcast/testkit";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ARTIFACTS, readPng, rowKinds, send, status, toolCards, useConsoleStack, waitForStatus } from "./stack.js";

/** Kinds of the timeline rows in the order they were added to the DOM (recorded from before the first row). */
async function recordArrivals(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { arrivals: string[] }).arrivals = seen;
    new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes) if (n instanceof HTMLLIElement && n.classList.contains("row")) seen.push(n.classList[1] ?? "");
    }).observe(document.body, { childList: true, subtree: true });
  });
  return () => page.evaluate(() => [...(window as unknown as { arrivals: string[] }).arrivals]);
}

describe("web console in real Chromium: the golden path, errors, reload, cancel", () => {
  const stack = useConsoleStack();

  it("ask 6*7: thinking → tool card → question in timeline order, mid-run screenshot, answer, completion, follow-up on the same task", async () => {
    const shot = resolve(ARTIFACTS, "console-mid-run.png");
    rmSync(shot, { force: true });
    const page = await stack.openSignedIn(stack.gateways[0]?.url ?? "", "web-alice");
    const arrivals = await recordArrivals(page);
    await send(page, "New task", "/ask what is 6*7");
    const question = page.locator(".row.question");
    await question.waitFor({ timeout: 15_000 });

    // Streamed in order, and laid out in that order: run, thinking, the finished tool card, the question.
    expect(await arrivals()).toEqual(["run", "thinking", "tool", "question"]);
    expect(await rowKinds(page)).toEqual(["run", "thinking", "tool", "question"]);
    const top = async (sel: string) => (await page.locator(sel).boundingBox())?.y ?? Number.NaN;
    const [thinkingY, toolY, questionY] = [await top(".row.thinking"), await top(".row.tool"), await top(".row.question")];
    expect(thinkingY).toBeLessThan(toolY);
    expect(toolY).toBeLessThan(questionY);
    expect(await page.getByTestId("tool-card").textContent()).toMatch(/calculator.*"6\*7".*→.*42.*\d+ ms/);
    expect(await question.textContent()).toContain("6*7 = 42. Anything you want me to add");

    // The mid-run screenshot: taken while the run waits for the answer, and a real full-page PNG.
    expect(await status(page)).toBe("waiting_for_user");
    await page.screenshot({ path: shot, fullPage: true });
    expect(await status(page)).toBe("waiting_for_user");
    const png = readPng(shot);
    expect(png.width).toBe(page.viewportSize()?.width);
    expect(png.height).toBeGreaterThanOrEqual(page.viewportSize()?.height ?? 0);
    expect(png.bytes).toBeGreaterThan(20_000);
    expect(png.distinctBytes).toBeGreaterThan(100);

    await page.getByLabel("Your answer").fill("show the working");
    await page.getByLabel("Your answer").press("Enter");
    await waitForStatus(page, "succeeded");
    expect(await page.locator(".row.output").textContent()).toContain("6*7 = 42. You said: show the working");
    expect(await rowKinds(page)).toEqual(["run", "thinking", "tool", "question", "thinking", "output", "completed"]);

    // Both composers are on screen now; every id is unique, so "Follow up" names the follow-up input.
    const ids = await page.locator("[id]").evaluateAll((els) => els.map((el) => el.id));
    expect(new Set(ids).size).toBe(ids.length);
    const heading = await page.getByRole("region", { name: "Task" }).getByRole("heading").textContent();
    const followUp = page.getByLabel("Follow up", { exact: true });
    expect(await followUp.evaluate((el) => el.closest("section")?.getAttribute("aria-label"))).toBe("Task");
    await send(page, "Follow up", "/tools 2 and what is 9*9");
    await expect.poll(() => page.locator(".row.completed").count(), { timeout: 15_000 }).toBe(2);
    await waitForStatus(page, "succeeded");
    expect(await page.getByRole("region", { name: "Task" }).getByRole("heading").textContent()).toBe(heading);
    expect(await page.locator(".row.run").nth(1).textContent()).toContain("/tools 2 and what is 9*9");
    expect(await page.locator(".row.output").nth(1).textContent()).toContain("9*9 = 81");
    expect(await toolCards(page)).toBe(3);
    const firstRun = ["run", "thinking", "tool", "question", "thinking", "output", "completed"];
    expect(await rowKinds(page)).toEqual([...firstRun, "run", "thinking", "tool", "tool", "output", "completed"]);
    expect(await page.getByLabel("New task", { exact: true }).inputValue()).toBe("");
    expect(await page.getByRole("navigation", { name: "Tasks" }).getByRole("listitem").count()).toBe(1);
  });

  it("errors are shown plainly: a failed run's agent_error, and a refused token on the sign-in form", async () => {
    const page = await stack.openSignedIn(stack.gateways[0]?.url ?? "", "web-dave");
    await send(page, "New task", "/fail on purpose");
    await waitForStatus(page, "failed");
    const task = page.getByRole("region", { name: "Task" });
    const alert = task.getByRole("alert");
    expect(await alert.isVisible()).toBe(true);
    expect(await alert.textContent()).toBe("agent_failed: The demo agent was asked to fail (/fail)");
    const row = page.locator(".row.error");
    expect(await row.isVisible()).toBe(true);
    expect(await row.textContent()).toContain("agent_failed: The demo agent was asked to fail (/fail)");
    expect(await page.getByLabel("Status").textContent()).toBe("failed");
    expect(await rowKinds(page)).toEqual(["run", "thinking", "thinking", "error"]);

    for (const [token, code] of [
      ["not-a-jwt", "token_invalid"],
      [await signDevToken("web-dave", { secret: "not-the-gateway-secret" }), "token_invalid"],
      [await signDevToken("web-dave", { expiresInSeconds: -60 }), "token_expired"],
    ] as const) {
      const signIn = await stack.open(stack.gateways[1]?.url ?? "");
      await signIn.getByLabel("Token (JWT)").fill(token);
      await signIn.getByRole("button", { name: "Sign in" }).click();
      const refused = signIn.getByRole("alert");
      await refused.waitFor({ timeout: 10_000 });
      expect(await refused.textContent()).toMatch(new RegExp(`^Unauthorized \\(${code}\\): \\w+`));
      expect(await refused.isVisible()).toBe(true);
      expect(await signIn.getByLabel("Token (JWT)").getAttribute("aria-invalid")).toBe("true");
      expect(await signIn.locator(".connection").count()).toBe(0); // back on the form, not half signed in
    }
  });

  it("reload mid-run: the run is still going after the reload, rows keep arriving live, none twice", async () => {
    const page = await stack.openSignedIn(stack.gateways[1]?.url ?? "", "web-bob");
    await send(page, "New task", "/slow /tools 5 what is 7*7");
    await expect.poll(() => toolCards(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await page.reload();
    await expect.poll(() => toolCards(page), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const afterReload = await toolCards(page);
    expect(await status(page)).toBe("running");
    expect(afterReload).toBeLessThan(5);
    await expect.poll(() => toolCards(page), { timeout: 15_000 }).toBeGreaterThan(afterReload);
    await waitForStatus(page, "succeeded", 30_000);
    expect(await toolCards(page)).toBe(5);
    expect(await page.locator(".row.tool.ok").count()).toBe(5);
    // Exactly one run's rows: start, thinking, 5 tool cards, the streamed output, the end — nothing twice.
    expect(await rowKinds(page)).toEqual(["run", "thinking", "tool", "tool", "tool", "tool", "tool", "output", "completed"]);
    expect(await page.locator(".row.output").textContent()).toContain("7*7 = 49.");
  });

  it("cancel from the keyboard: the run ends cancelled and the open tool call is closed", async () => {
    const page = await stack.openSignedIn(stack.gateways[1]?.url ?? "", "web-bob");
    await send(page, "New task", "/slow /tools 5 what is 2*2");
    await expect.poll(() => toolCards(page), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Cancel" }).focus();
    await page.keyboard.press("Enter");
    await waitForStatus(page, "cancelled");
    expect(await page.locator(".row.tool.running").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(0);
  });
});
