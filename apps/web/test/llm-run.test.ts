// A real model's run in the console (issue 16), in real Chromium: the LLM agent against the testkit's
// fake OpenAI-compatible provider. The streamed answer is rendered as markdown — and safely: HTML,
// scripts and javascript: links in model output stay text; the tool card shows arguments and result;
// the model and token usage are shown at the end.
import { type FakeLlm, finishChunk, reasoningChunks, startFakeLlm, textChunks, toolCallChunks, usageChunk } from "@agentcast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, useConsoleStack, waitForStatus } from "./stack.js";

const ANSWER = [
  "**Bold** answer with `code`, computed: 42.",
  "",
  '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>',
  "",
  "[click me](javascript:window.__pwned=3)",
  "",
  "- item one",
  "- item two",
].join("\n");

describe("web console: a real model's run", () => {
  const workerEnv: Record<string, string> = {};
  let llm: FakeLlm;
  beforeAll(async () => {
    llm = await startFakeLlm((req) =>
      req.messages.some((m) => m.role === "tool")
        ? { stream: [...textChunks(ANSWER, 7), finishChunk("stop"), usageChunk(40, 15)], delayMs: 5 }
        : {
            stream: [
              ...reasoningChunks("I should use the calculator."),
              ...toolCallChunks([{ id: "c1", name: "calculator", arguments: '{"expression":"6*7"}' }]),
              finishChunk("tool_calls"),
              usageChunk(15, 3),
            ],
          },
    );
    Object.assign(workerEnv, { LLM_BASE_URL: llm.url, LLM_MODEL: "fake-model" });
  });
  afterAll(() => llm?.close());
  // Registered after the hook above: the worker starts with the provider's address.
  const stack = useConsoleStack({ gateways: 1, workerEnv });

  it("markdown rendered without HTML injection; tool card with arguments and result; model and usage at the end", async () => {
    const page = await stack.openSignedIn(stack.gateways[0]?.url ?? "", "web-llm");
    await send(page, "New task", "what is 6*7?");
    await waitForStatus(page, "succeeded");
    const output = page.locator(".row.output");
    expect(await output.locator("strong").textContent()).toBe("Bold");
    expect(await output.locator("code").textContent()).toBe("code");
    expect(await output.locator("li").allTextContents()).toEqual(["item one", "item two"]);
    // The HTML is shown as text; no element came from it, nothing ran, and the javascript: link has no href.
    expect(await output.textContent()).toContain('<img src=x onerror="window.__pwned=1"><script>');
    expect(await output.locator("img, script").count()).toBe(0);
    expect(await output.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href") ?? ""))).not.toContainEqual(
      expect.stringMatching(/^javascript:/i),
    );
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    expect(await page.getByTestId("tool-card").textContent()).toMatch(/calculator.*"expression":"6\*7".*→.*42.*\d+ ms/);
    expect(await page.locator(".row.thinking").textContent()).toContain("I should use the calculator.");
    expect(await page.locator(".row.completed").textContent()).toContain("fake-model · 55 in / 18 out tokens");
  });
});
