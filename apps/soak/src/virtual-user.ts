import { AgentcastError, createClient } from "@agentcast/client";
import type { EventEnvelope } from "@agentcast/protocol";
import { checkDelivery, runHistory } from "./check-delivery.js";
import { bump, type SoakStats } from "./stats.js";

export type RunKind = "plain" | "tools" | "ask" | "cancel" | "fail";
const KINDS: readonly RunKind[] = ["plain", "tools", "tools", "ask", "cancel", "fail"];
const TEXT: Record<RunKind, string> = {
  plain: "what is 2+2",
  tools: "/tools 4 what is 6*7",
  ask: "/ask what is 3*3",
  cancel: "/slow /tools 5 what is 9*9",
  fail: "/fail please",
};

export interface VirtualUserOptions {
  url: string;
  userId: string;
  token: string;
  until: number;
  stats: SoakStats;
  runTimeoutMs: number;
  random: () => number;
}

const terminal = (e: EventEnvelope) => e.type === "agent_completed" || e.type === "agent_error";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects one run's events from a subscription; resolves when its terminal event arrives. */
function collector(runId: () => string | undefined) {
  const events: EventEnvelope[] = [];
  let ended: () => void = () => {};
  const done = new Promise<void>((r) => {
    ended = r;
  });
  const add = (e: EventEnvelope) => {
    if (e.runId !== runId()) return;
    events.push(e);
    if (terminal(e)) ended();
  };
  return { events, done, add };
}

const within = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

/**
 * One user, run after run until `until`: a fresh connection per run (connect churn), a second
 * connection that follows the same run, drops halfway and resumes with sinceSeq on a new
 * connection, answers to questions, cancels mid-run. Every run is checked against its history.
 */
export async function virtualUser(o: VirtualUserOptions): Promise<void> {
  let taskId: string | undefined;
  for (let i = 0; Date.now() < o.until && i < 10_000; i++) {
    const kind = KINDS[Math.floor(o.random() * KINDS.length)] as RunKind;
    const newClient = () => {
      o.stats.connections++;
      return createClient({ url: o.url, token: o.token, transports: ["websocket"], reconnectDelayMs: 200, reconnectDelayMaxMs: 2_000 });
    };
    const owner = newClient();
    let watcher = newClient();
    let runId: string | undefined;
    const own = collector(() => runId);
    const watched = collector(() => runId);
    try {
      const followUp = taskId !== undefined && o.random() < 0.5;
      const sent = await owner.send(TEXT[kind], followUp && taskId ? { taskId } : {});
      runId = sent.runId;
      taskId = sent.taskId;
      const currentTask = sent.taskId;
      owner.subscribe(currentTask).on("*", (e) => {
        own.add(e);
        if (e.runId !== runId) return;
        if (e.type === "agent_question")
          void owner.respond(currentTask, (e.data as { questionId: string }).questionId, "42").catch(countError(o));
        if (kind === "cancel" && e.type === "tool_executing") void owner.cancel(currentTask).catch(countError(o));
      });
      // The watcher drops after a few events of this run and resumes on a new connection.
      const dropAfter = 1 + Math.floor(o.random() * 6);
      let lastSeq = 0;
      watcher.subscribe(currentTask).on("*", (e) => {
        watched.add(e);
        lastSeq = e.seq;
        if (e.runId === runId && watched.events.length === dropAfter && !terminal(e)) {
          watcher.close();
          o.stats.resumes++;
          watcher = newClient();
          watcher.subscribe(currentTask, { sinceSeq: lastSeq }).on("*", watched.add);
        }
      });
      if (!(await within(own.done, o.runTimeoutMs))) {
        o.stats.stalled++;
        continue;
      }
      await within(watched.done, 10_000);
      const last = own.events.at(-1) as EventEnvelope;
      bump(
        o.stats.runs,
        last.type === "agent_completed"
          ? `completed:${(last.data as { status: string }).status}`
          : `error:${(last.data as { code: string }).code}`,
      );
      const history = await runHistory(o.url, o.token, currentTask, sent.runId);
      checkDelivery(own.events, history, o.stats);
      checkDelivery(watched.events, history, o.stats);
    } catch (err) {
      countError(o)(err);
      await sleep(200);
    } finally {
      owner.close();
      watcher.close();
    }
  }
}

const countError = (o: VirtualUserOptions) => (err: unknown) =>
  bump(o.stats.commandErrors, err instanceof AgentcastError ? err.code : err instanceof Error ? err.message.slice(0, 60) : String(err));
