import type { ConnectionState } from "@agentcast/client";
import { useCallback, useEffect, useState } from "react";
import { useAgentcastClient } from "./provider.js";
import { EMPTY_VIEW, reduceTask, type TaskView } from "./task-state.js";
import { useConnectionState } from "./use-connection-state.js";

export interface AgentTask extends TaskView {
  connection: ConnectionState;
  /** Sends a follow-up message on this task (or starts a new task when there is no taskId). */
  send: (text: string) => Promise<{ taskId: string; runId: string }>;
  /** Answers the pending question. */
  respond: (response: string) => Promise<void>;
  cancel: () => Promise<void>;
}

/**
 * Live state of one task: status, events, progress, the pending question and the connection —
 * resumed without gaps or duplicates after any reconnect, cleaned up on unmount.
 */
export function useAgentTask(taskId: string | undefined): AgentTask {
  const client = useAgentcastClient();
  const connection = useConnectionState();
  const [view, setView] = useState<TaskView>(EMPTY_VIEW);

  useEffect(() => {
    setView(EMPTY_VIEW);
    if (!taskId) return;
    const handle = client.subscribe(taskId);
    const off = handle.on("*", (e) => setView((v) => reduceTask(v, e)));
    return () => {
      off();
      handle.close();
    };
  }, [client, taskId]);

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
