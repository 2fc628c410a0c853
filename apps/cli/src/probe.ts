import { writeFileSync } from "node:fs";
import { type AgentcastClient, AgentcastError, createClient } from "@agentcast/client";
import { type EventEnvelope, type EventType, isEventType } from "@agentcast/protocol";
import { DEFAULT_REQUIRED_EVENTS, FINAL_STATUSES, type FinalStatus, formatReport, type RunReport, validateRun } from "@agentcast/run-check";
import { decodeJwt } from "jose";
import { EXIT } from "./exit-codes.js";
import { toJUnit } from "./junit.js";

export interface ProbeOptions {
  url: string;
  token: string;
  message: string;
  expect: EventType[];
  /** How the run must end (default ["succeeded"]): a cancelled or failed run is a failed probe unless listed. */
  expectStatus?: FinalStatus[];
  timeoutMs: number;
  junit?: string | undefined;
  json: boolean;
  transports: ("websocket" | "polling")[];
}

export interface ProbeResult {
  exitCode: number;
  outcome: "ok" | "unreachable" | "unauthorized" | "timeout" | "invalid_run";
  error?: string;
  report: RunReport;
  events: EventEnvelope[];
  durationMs: number;
}

/**
 * Connects like a user would, sends `user_message` (never an output event), collects the run until
 * its terminal event, validates it and reports. Distinct exit codes for each way it can fail.
 */
export async function probe(opts: ProbeOptions): Promise<ProbeResult> {
  const started = Date.now();
  const events: EventEnvelope[] = [];
  const client = createClient({
    url: opts.url,
    token: opts.token,
    transports: opts.transports,
    commandTimeoutMs: opts.timeoutMs,
    reconnectDelayMs: 250,
  });
  const finish = (outcome: ProbeResult["outcome"], error?: string): ProbeResult => {
    client.close();
    const userId = subjectOf(opts.token);
    const report = validateRun(events, {
      required: opts.expect,
      expectStatus: opts.expectStatus ?? ["succeeded"],
      ...(userId === undefined ? {} : { userId }),
    });
    const exitCode =
      outcome === "ok"
        ? report.ok
          ? EXIT.ok
          : EXIT.invalidRun
        : { unreachable: EXIT.unreachable, unauthorized: EXIT.unauthorized, timeout: EXIT.timeout, invalid_run: EXIT.invalidRun }[outcome];
    const final = outcome === "ok" && !report.ok ? "invalid_run" : outcome;
    return { exitCode, outcome: final, report, events, durationMs: Date.now() - started, ...(error ? { error } : {}) };
  };
  const deadline = started + opts.timeoutMs;
  try {
    const connected = await waitConnected(client, Math.min(opts.timeoutMs, 10_000));
    if (connected !== "connected") return finish(connected.kind, connected.message);
    const { taskId } = await client.send(opts.message);
    const handle = client.subscribe(taskId);
    const ended = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      handle.on("*", (e) => {
        events.push(e);
        if (e.type === "agent_completed" || e.type === "agent_error") {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    if (!ended) return finish("timeout", `no terminal event within ${opts.timeoutMs} ms (${events.length} events received)`);
    return finish("ok");
  } catch (err) {
    if (err instanceof AgentcastError && err.code.startsWith("token_")) return finish("unauthorized", err.message);
    if (err instanceof AgentcastError && err.code === "timeout") return finish("timeout", err.message);
    return finish("invalid_run", err instanceof Error ? err.message : String(err));
  }
}

/** The token's `sub` (unverified — the gateway verifies): every event must belong to this user. */
function subjectOf(token: string): string | undefined {
  try {
    return decodeJwt(token).sub;
  } catch {
    return undefined;
  }
}

type ConnectFailure = { kind: "unreachable" | "unauthorized"; message: string };

function waitConnected(client: AgentcastClient, timeoutMs: number): Promise<"connected" | ConnectFailure> {
  return new Promise((resolve) => {
    let lastError = "no answer";
    const timer = setTimeout(
      () => resolve({ kind: "unreachable", message: `could not connect within ${timeoutMs} ms: ${lastError}` }),
      timeoutMs,
    );
    client.socket.on("connect_error", (err) => {
      lastError = err.message;
    });
    client.on("error", (err) => {
      clearTimeout(timer);
      resolve({ kind: "unauthorized", message: `${err.code}: ${err.message}` });
    });
    if (client.state === "connected") resolve("connected");
    client.on("state", (s) => {
      if (s !== "connected") return;
      clearTimeout(timer);
      resolve("connected");
    });
  });
}

/** Prints the result (table or JSON) and writes JUnit if asked; returns the exit code. */
export function reportProbe(result: ProbeResult, opts: ProbeOptions, out: (line: string) => void): number {
  if (opts.junit)
    writeFileSync(
      opts.junit,
      toJUnit(result.report, { url: opts.url, durationMs: result.durationMs, ...(result.error ? { error: result.error } : {}) }),
    );
  if (opts.json) {
    out(
      JSON.stringify(
        { outcome: result.outcome, exitCode: result.exitCode, error: result.error, durationMs: result.durationMs, report: result.report },
        null,
        2,
      ),
    );
  } else {
    out(
      `agentcast probe ${opts.url}: ${result.outcome.toUpperCase()} in ${result.durationMs} ms${result.error ? ` — ${result.error}` : ""}`,
    );
    out("");
    out(formatReport(result.report));
  }
  return result.exitCode;
}

export function parseExpect(list: string | undefined): EventType[] {
  if (!list) return [...DEFAULT_REQUIRED_EVENTS];
  const types = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = types.filter((t) => !isEventType(t));
  if (bad.length > 0) throw new Error(`--expect: unknown event type(s): ${bad.join(", ")}`);
  return types as EventType[];
}

export function parseExpectStatus(list: string | undefined): FinalStatus[] {
  const statuses = (list ?? "succeeded")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = statuses.filter((s) => !FINAL_STATUSES.includes(s as FinalStatus));
  if (bad.length > 0 || statuses.length === 0)
    throw new Error(`--expect-status: expected a list of ${FINAL_STATUSES.join(", ")}, got "${list ?? ""}"`);
  return statuses as FinalStatus[];
}
