// Token streams at LLM rates (issue 15), end to end: the demo agent streams 100,000 tokens (1-5 characters)
// through the real worker — coalesced per window — while the task's history is bounded to 100 entries, so
// most of the answer is folded into a snapshot before anyone resumes. A client that watched it live, and
// SDK clients that resume from 0, from the middle and from the end on the OTHER gateway, all end with
// exactly the source text, and no gateway counts a gap. Then a worker SIGKILLed mid-stream: the next
// worker ends the run, and a resuming client reads a gapless history whose text is the source's start.
import { type AgentcastClient, createClient, EMPTY_RUN_TEXT, foldRunText, type RunText } from "@agentcast/client";
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import { type LocalStack, signDevToken, startLocalStack, startWorkerProcess, until, type WorkerProcess } from "@agentcast/testkit";
import { demoStreamText } from "@agentcast/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scrape, value } from "./metrics.js";

const TOKENS = 100_000;
const WORKER_ENV = {
  DEMO_TOKEN_RATE: "10000",
  OUTPUT_COALESCE_MS: "40",
  OUTPUT_COALESCE_MAX_BYTES: "512",
  HISTORY_MAX_LEN: "100",
  JOB_LOCK_MS: "1000",
};

describe("token streams: 100,000 tokens through a 100-entry history", () => {
  let stack: LocalStack;
  const clients: AgentcastClient[] = [];
  const extraWorkers: WorkerProcess[] = [];
  beforeAll(async () => {
    stack = await startLocalStack({ gateways: 2, workers: 1, workerEnv: WORKER_ENV });
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(extraWorkers.map((w) => w.stop("SIGKILL").catch(() => {})));
    await stack?.stop();
  });
  const client = (gateway: number) => {
    const c = createClient({
      url: stack.gateways[gateway]?.url as string,
      getToken: () => signDevToken("tokens"),
      transports: ["websocket"],
    });
    clients.push(c);
    return c;
  };
  /** Follows `taskId` from `sinceSeq` until the run's terminal event: the events and the run's text as the SDK built it. */
  const follow = async (c: AgentcastClient, taskId: string, sinceSeq: number) => {
    const handle = c.subscribe(taskId, { sinceSeq });
    const events: EventEnvelope[] = [];
    handle.on("*", (e) => events.push(e));
    await until(
      "the run's terminal event",
      () => events.some((e) => e.type === "agent_completed" || e.type === "agent_error"),
      120_000,
      50,
    );
    return { events, text: handle.text() };
  };
  const gaps = async () => {
    let n = 0;
    for (const g of stack.gateways) n += value(await scrape(g.metricsPort), "agentcast_silent_failures_total", { kind: "sequence_gap" });
    return n;
  };

  it("live, and resumed from 0, the middle and the end on the other gateway: exactly the source text, no gap", {
    timeout: 240_000,
  }, async () => {
    const source = demoStreamText(TOKENS);
    const live = client(0);
    const sent = await live.send(`/stream ${TOKENS}`);
    const watched = await follow(live, sent.taskId, 0);
    expect(watched.events.at(-1)?.data).toEqual({ status: "succeeded", result: { outputChars: source.length } });
    expect(watched.text.output).toBe(source);
    expect(watched.events.some((e) => (e.data as { snapshot?: true }).snapshot)).toBe(false); // live: never a snapshot
    expect(validateRunEvents(watched.events)).toEqual([]);
    const lastSeq = watched.events.at(-1)?.seq as number;
    // Coalesced: far fewer events than tokens; the history holds at most 100 entries, most text in a snapshot.
    expect(lastSeq).toBeLessThan(TOKENS / 10);
    const res = await fetch(`${stack.gateways[1]?.url}/v1/tasks/${sent.taskId}/events?sinceSeq=0&limit=500`, {
      headers: { authorization: `Bearer ${await signDevToken("tokens")}` },
    });
    const history = (await res.json()) as { events: EventEnvelope[]; foldedThrough?: number };
    expect(history.events.length).toBeLessThanOrEqual(100);
    expect(history.foldedThrough).toBeGreaterThan(lastSeq / 2);

    for (const from of [0, Math.floor(lastSeq / 2), lastSeq - 3, lastSeq]) {
      // What a client had at `from` (the live events up to it), then a resume on the other gateway.
      let had: RunText = watched.events.filter((e) => e.seq <= from).reduce(foldRunText, EMPTY_RUN_TEXT);
      if (from < lastSeq) {
        const resumed = await follow(client(1), sent.taskId, from);
        expect(resumed.events[0]?.seq, `resume from ${from}`).toBeGreaterThan(from);
        had = resumed.events.reduce(foldRunText, had);
        if (from === 0) expect(resumed.text.output).toBe(source); // the SDK's own text, from 0
      }
      expect(had.output, `resume from ${from}`).toBe(source);
    }
    expect(await gaps()).toBe(0);
  });

  it("a worker SIGKILLed mid-stream: the next one ends the run, and a resuming client reads a gapless history", {
    timeout: 120_000,
  }, async () => {
    const c = client(0);
    const sent = await c.send(`/stream ${TOKENS}`);
    const handle = c.subscribe(sent.taskId);
    const seen: EventEnvelope[] = [];
    handle.on("*", (e) => seen.push(e));
    await until("the stream to be well under way", () => seen.filter((e) => e.type === "agent_output").length >= 300, 60_000, 20);
    await stack.workers[0]?.stop("SIGKILL");
    extraWorkers.push(
      await startWorkerProcess({ redisClusterNodes: stack.redisClusterNodes || undefined, redisUrl: stack.redisUrl, env: WORKER_ENV }),
    );
    await until("run_stalled", () => seen.some((e) => e.type === "agent_error"), 60_000, 50);
    expect(seen.at(-1)?.data).toMatchObject({ code: "run_stalled" });
    const resumed = await follow(client(1), sent.taskId, 0);
    const run = resumed.events.filter((e) => e.runId === sent.runId);
    const res = await fetch(`${stack.gateways[1]?.url}/v1/tasks/${sent.taskId}/events?sinceSeq=0&limit=1`, {
      headers: { authorization: `Bearer ${await signDevToken("tokens")}` },
    });
    const { foldedThrough } = (await res.json()) as { foldedThrough?: number };
    expect(foldedThrough).toBeGreaterThan(0);
    expect(validateRunEvents(run, { foldedThrough })).toEqual([]);
    expect(validateRunEvents(run).map((v) => v.rule)).toContain("seq"); // the folded seqs are missing without it
    expect(demoStreamText(TOKENS).startsWith(resumed.text.output)).toBe(true);
    expect(resumed.text.output).toBe(handle.text().output);
    expect(await gaps()).toBe(0);
  });
});
