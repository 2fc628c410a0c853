import { useAgentcastClient, useConnectionState } from "@agentcast/react";
import { useEffect, useState } from "react";
import { listTasks, type TaskSummary } from "./api.js";

/**
 * The user's tasks, live: loaded on every (re)connect — so a refused token never reaches the HTTP
 * API and tasks created during an outage show up — and extended by task_created notices.
 */
export function TaskList({
  baseUrl,
  token,
  selected,
  onSelect,
}: {
  baseUrl: string;
  token: string;
  selected?: string;
  onSelect: (taskId: string) => void;
}) {
  const client = useAgentcastClient();
  const [tasks, setTasks] = useState<TaskSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const connected = useConnectionState() === "connected";
  useEffect(() => {
    if (!connected) return;
    let live = true;
    listTasks(baseUrl, token).then(
      (loaded) => {
        if (!live) return;
        setError(null);
        setTasks((current) => merge(current, loaded));
      },
      (err: unknown) => live && setError(String(err)),
    );
    return () => {
      live = false;
    };
  }, [baseUrl, token, connected]);
  useEffect(() => {
    const off = client.on("task_created", (n) =>
      setTasks((current) => merge(current, [{ taskId: n.taskId, title: n.title, status: "queued", lastSeq: 0, createdAt: n.createdAt }])),
    );
    return off;
  }, [client]);
  return (
    <nav className="tasks" aria-label="Tasks">
      <h2>Tasks</h2>
      {error && <p role="alert">{error}</p>}
      {tasks.length === 0 && <p className="hint">No tasks yet.</p>}
      <ul>
        {tasks.map((t) => (
          <li key={t.taskId}>
            <button type="button" aria-current={t.taskId === selected ? "true" : undefined} onClick={() => onSelect(t.taskId)}>
              {t.title || t.taskId}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function merge(current: TaskSummary[], more: TaskSummary[]): TaskSummary[] {
  const byId = new Map(current.map((t) => [t.taskId, t]));
  for (const t of more) if (!byId.has(t.taskId)) byId.set(t.taskId, t);
  return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt);
}
