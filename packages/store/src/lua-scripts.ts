import { readFileSync } from "node:fs";
import type { RedisClient } from "./redis-connection.js";

/**
 * The Lua scripts in `packages/store/lua/`, one per file named `<name>-<numberOfKeys>.lua` (`-n.lua`: a
 * variable number, which the caller passes first) and opened by a comment block listing its KEYS, ARGV and
 * outputs (as BullMQ does). Each is defined on a client as the
 * command `ac<Name>` (ioredis runs it with EVALSHA and falls back to EVAL when Redis does not know it).
 * Each signature is `(...KEYS, ...ARGV)`, in the order of the file's header.
 */
export interface LuaScripts {
  /**
   * publish-events-n.lua: `numberOfKeys` (4 per event), then the events' keys (task, events, question,
   * snapshots each), then their arguments (16 each, see the script's header). Answers three numbers per
   * event: seq, code, over.
   */
  acPublishEvents(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
  acCompactHistory(
    task: string,
    events: string,
    snapshots: string,
    maxLen: number,
    targetLen: number,
    ttlSeconds: number,
    maxBytes: number,
    targetBytes: number,
  ): Promise<[folded: number, trimmed: number, entries: number, bytes: number]>;
  acClaimRun(task: string, runId: string, owner: string): Promise<[next: number]>;
  acAppendTurn(
    conversation: string,
    task: string,
    turn: string,
    maxTurns: number,
    maxBytes: number,
    ttlSeconds: number,
  ): Promise<[turns: number, bytes: number, dropped: number]>;
  acCreateTask(
    task: string,
    taskId: string,
    runId: string,
    userId: string,
    nowMs: number,
    ttlSeconds: number,
    title: string,
    order: number,
  ): Promise<["ok", 0] | ["exists"]>;
  acStartRun(task: string, runId: string, userId: string, nowMs: number, ttlSeconds: number): Promise<[string, number?]>;
  acRequestCancel(task: string, userId: string, controlChannel: string): Promise<[string, string?]>;
  acAnswerQuestion(
    task: string,
    question: string,
    pendingAnswer: string,
    userId: string,
    questionId: string,
    response: string,
    controlChannel: string,
    ttlSeconds: number,
  ): Promise<[string, string?]>;
  acAbandonRun(task: string, runId: string): Promise<0 | 1 | 2>;
  acSlidingTake(log: string, windowMs: number, max: number, entry: string): Promise<number>;
  acOpenConnection(connections: string, nowMs: number, leaseMs: number, max: number, connectionId: string): Promise<0 | 1>;
  acRenewConnection(connections: string, nowMs: number, leaseMs: number, connectionId: string): Promise<0 | 1>;
  acMintReadToken(
    task: string,
    readTokens: string,
    userId: string,
    tokenId: string,
    secretSha256: string,
    nowMs: number,
    expiresAtMs: number,
    maxPerTask: number,
  ): Promise<[string]>;
  acSetClientRun(task: string, runId: string, clientRunId: string): Promise<0 | 1>;
}

export type ScriptName = keyof LuaScripts;
export type ScriptedRedis = RedisClient & LuaScripts;

/** Command name → file in `lua/`; the number before `.lua` is the script's number of KEYS. */
export const LUA_SCRIPT_FILES: Readonly<Record<ScriptName, string>> = {
  acPublishEvents: "publish-events-n.lua",
  acCompactHistory: "compact-history-3.lua",
  acAppendTurn: "append-turn-2.lua",
  acCreateTask: "create-task-1.lua",
  acStartRun: "start-run-1.lua",
  acRequestCancel: "request-cancel-1.lua",
  acAnswerQuestion: "answer-question-3.lua",
  acAbandonRun: "abandon-run-1.lua",
  acClaimRun: "claim-run-1.lua",
  acSlidingTake: "sliding-take-1.lua",
  acOpenConnection: "open-connection-1.lua",
  acRenewConnection: "renew-connection-1.lua",
  acMintReadToken: "mint-read-token-2.lua",
  acSetClientRun: "set-client-run-1.lua",
};

/** `lua/` beside `src/` and `dist/`: resolved from this module, so it holds in the repo, in dist and once installed. */
export const LUA_DIR = new URL("../lua/", import.meta.url);

export interface LuaScript {
  name: ScriptName;
  file: string;
  /** undefined: variable (`-n.lua`), the caller passes it first. */
  numberOfKeys: number | undefined;
  lua: string;
}

let loaded: readonly LuaScript[] | undefined;

/** Every script, read from disk once per process. */
export function luaScripts(): readonly LuaScript[] {
  loaded ??= Object.entries(LUA_SCRIPT_FILES).map(([name, file]) => {
    const keys = /-(\d+|n)\.lua$/.exec(file)?.[1];
    if (keys === undefined) throw new Error(`lua/${file}: the file name must end with -<numberOfKeys>.lua or -n.lua`);
    const numberOfKeys = keys === "n" ? undefined : Number(keys);
    return { name: name as ScriptName, file, numberOfKeys, lua: readFileSync(new URL(file, LUA_DIR), "utf8") };
  });
  return loaded;
}

/** Defines every script on `redis` as a command (idempotent) and returns it typed with them. */
export function withLuaScripts(redis: RedisClient): ScriptedRedis {
  const commands = redis as unknown as Record<string, unknown>;
  for (const { name, numberOfKeys, lua } of luaScripts()) {
    if (typeof commands[name] !== "function") redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
  }
  return redis as ScriptedRedis;
}
