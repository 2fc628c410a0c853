import type { Redis } from "ioredis";
import * as lua from "./scripts.js";

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

const SCRIPTS = {
  acPublishEvent: { numberOfKeys: 3, lua: lua.PUBLISH_EVENT },
  acCreateTask: { numberOfKeys: 1, lua: lua.CREATE_TASK },
  acStartRun: { numberOfKeys: 1, lua: lua.START_RUN },
  acRequestCancel: { numberOfKeys: 1, lua: lua.REQUEST_CANCEL },
  acAnswerQuestion: { numberOfKeys: 3, lua: lua.ANSWER_QUESTION },
  acAbandonRun: { numberOfKeys: 1, lua: lua.ABANDON_RUN },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptedRedis = Redis & Record<ScriptName, ScriptFn>;

/** Registers the scripts on a client (EVALSHA with automatic EVAL fallback); idempotent. */
export function withScripts(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis;
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (typeof (r as unknown as Record<string, unknown>)[name] !== "function") redis.defineCommand(name, def);
  }
  return r;
}
