import type { ConnectionState } from "@agentcast/client";
import { useCallback, useEffect, useMemo, useSyncExternalStore } from "react";
import { useAgentcastClient } from "./provider.js";
import type { TaskView } from "./task-state.js";
import { TaskViewStore } from "./task-view-store.js";
import { useConnectionState } from "./use-connection-state.js";

export interface AgentTask extends TaskView {
  connection: ConnectionState;
  /** Sends a follow-up message on this task (or starts a new task when there is no taskId). */
  send: (text: string) => Promise<{ taskId: string; runId: string }>;
  /** Answers the pending question. */
  respond: (response: string) => Promise<void>;
  cancel: () => Promise<void>;
}

export interface AgentTaskOptions {
  /**
   * Newest events kept in `events` (default 5,000). Older ones leave `events`; `status`, `progress`,
   * `pendingQuestion` and `error` still follow every event. Each render copies at most this many.
   */
  maxEvents?: number;
  /** Events that arrive within this many ms render together: at most one render per window (default 16, about a frame). */
  batchMs?: number;
}

export const DEFAULT_MAX_EVENTS = 5_000;
export const DEFAULT_BATCH_MS = 16;

/**
 * Live state of one task: status, events, progress, the pending question and the connection —
 * resumed without gaps or duplicates after any reconnect, cleaned up on unmount. A long run costs
 * O(1) amortised per event plus at most one render (copying at most `maxEvents`) per `batchMs`.
 */
export function useAgentTask(taskId: string | undefined, options: AgentTaskOptions = {}): AgentTask {
  const client = useAgentcastClient();
  const connection = useConnectionState();
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const batchMs = options.batchMs ?? DEFAULT_BATCH_MS;
  // One store per task: a new taskId starts from an empty view.
  const store = useMemo(() => new TaskViewStore(client, taskId, { maxEvents, batchMs }), [client, taskId, maxEvents, batchMs]);
  useEffect(() => store.follow(), [store]);
  const view = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);

  const send = useCallback((text: string) => client.send(text, taskId ? { taskId } : {}), [client, taskId]);
  const respond = useCallback(
    async (response: string) => {
      const q = view.pendingQuestion;
      if (!taskId || !q) throw new Error("respond: no pending question");
      await client.respond(taskId, q.questionId, response);
    },
    [client, taskId, view.pendingQuestion],
  );
  const cancel = useCallback(async () => {
    if (!taskId) throw new Error("cancel: no task");
    await client.cancel(taskId);
  }, [client, taskId]);

  return { ...view, connection, send, respond, cancel };
}
