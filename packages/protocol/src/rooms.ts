/**
 * Room names. The id sits inside `{…}` on purpose: it is a Redis Cluster hash tag, so the
 * sharded adapter's channel for `task:{id}` and the task's keys (`ac:{id}:…`) hash to one slot
 * and the publish script can run on a cluster unchanged.
 */
export const USER_ROOM_PREFIX = "user:";
export const TASK_ROOM_PREFIX = "task:";

export function userRoom(userId: string): string {
  return `${USER_ROOM_PREFIX}{${userId}}`;
}

export function taskRoom(taskId: string): string {
  return `${TASK_ROOM_PREFIX}{${taskId}}`;
}

/** The task id of a `task:{id}` room, or undefined for any other room. */
export function taskIdOfRoom(room: string): string | undefined {
  if (!room.startsWith(`${TASK_ROOM_PREFIX}{`) || !room.endsWith("}")) return undefined;
  return room.slice(TASK_ROOM_PREFIX.length + 1, -1);
}

/** Task, run and question ids: URL- and hash-tag-safe. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
