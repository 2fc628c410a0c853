export interface TaskSummary {
  taskId: string;
  title: string;
  status: string;
  lastSeq: number;
  createdAt: number;
}

/** The caller's tasks, newest first (GET /v1/tasks). */
export async function listTasks(baseUrl: string, token: string): Promise<TaskSummary[]> {
  const res = await fetch(`${baseUrl}/v1/tasks?limit=50`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /v1/tasks answered ${res.status}`);
  return ((await res.json()) as { tasks: TaskSummary[] }).tasks;
}
