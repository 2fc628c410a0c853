import { join } from "node:path";
import { type AgentcastClient, createClient } from "@agentcast/client";
import type { EventEnvelope } from "@agentcast/protocol";
import { type LocalStack, signDevToken, startLocalStack } from "@agentcast/testkit";
import { cleanup, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentcastProvider, useAgentTask } from "../src/index.js";

const LONG_RUN_AGENT = join(import.meta.dirname, "fixtures", "long-run-agent.mjs");
const TOKENS = 20_000;
const MAX_EVENTS = 1_000;
const BATCH_MS = 50;

const actEnvironment = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };

describe("useAgentTask over a long run (a real worker streams 20,000 events)", () => {
  let stack: LocalStack;
  let client: AgentcastClient;
  const wrapper = ({ children }: { children: ReactNode }) => <AgentcastProvider client={client}>{children}</AgentcastProvider>;

  beforeAll(async () => {
    // History long enough for the whole run, so a client that falls behind still resumes without a hole;
    // no coalescing: the point is one event per token reaching the hook.
    stack = await startLocalStack({
      gateways: 1,
      workers: 1,
      agentModule: LONG_RUN_AGENT,
      workerEnv: { HISTORY_MAX_LEN: "100000", OUTPUT_COALESCE_MS: "0" },
    });
    client = createClient({ url: stack.url, getToken: () => signDevToken("react-long"), transports: ["websocket"] });
  });
  afterEach(cleanup);
  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  it("renders at most once per batch window and copies at most maxEvents per render: not one render per event, not O(n²) copies", {
    timeout: 180_000,
  }, async () => {
    actEnvironment.IS_REACT_ACT_ENVIRONMENT = false; // updates scheduled as in a browser, not batched by act()
    try {
      const { taskId } = await client.send(`stream ${TOKENS} tokens`);
      let renders = 0;
      /** New `events` arrays the hook handed out, the references they hold, the longest, and when. */
      let published = 0;
      let copied = 0;
      let longest = 0;
      let previous: EventEnvelope[] | undefined;
      const publishedAt: number[] = [];
      const { result } = renderHook(
        () => {
          const task = useAgentTask(taskId, { maxEvents: MAX_EVENTS, batchMs: BATCH_MS });
          renders++;
          if (task.events !== previous && task.events.length > 0) {
            previous = task.events;
            published++;
            copied += task.events.length;
            longest = Math.max(longest, task.events.length);
            if (publishedAt.length < 2) publishedAt.push(Date.now());
            else publishedAt[1] = Date.now();
          }
          return task;
        },
        { wrapper },
      );
      await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 170_000, interval: 250 });

      const { events } = result.current;
      const lastSeq = events.at(-1)?.seq ?? 0;
      expect(events.at(-1)?.type).toBe("agent_completed");
      expect(lastSeq).toBe(TOKENS + 2); // agent_started, the tokens, agent_completed
      // The answer, joined by the hook from every delta: the view's text, not the app's concatenation.
      expect(result.current.output).toBe(Array.from({ length: TOKENS }, (_, i) => `t${i} `).join(""));
      // The newest MAX_EVENTS, in order, none missing.
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: MAX_EVENTS }, (_, i) => lastSeq - MAX_EVENTS + 1 + i));

      expect(longest).toBeLessThanOrEqual(MAX_EVENTS); // a render copies at most maxEvents
      expect(renders).toBeLessThan(lastSeq / 10); // far from one render per event
      expect(copied).toBeLessThanOrEqual(published * MAX_EVENTS);
      expect(copied).toBeLessThan(lastSeq * 100); // O(n · maxEvents / batch), against n²/2 ≈ 2·10⁸ for a copy per event
      // At most one new view per batch window.
      const [first = 0, last = 0] = publishedAt;
      expect(published).toBeLessThanOrEqual((last - first) / BATCH_MS + 2);
    } finally {
      actEnvironment.IS_REACT_ACT_ENVIRONMENT = true;
    }
  });
});
