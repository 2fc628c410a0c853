import type { Keys } from "./keys.js";
import { type ScriptedRedis, withLuaScripts } from "./lua-scripts.js";
import type { RedisClient } from "./redis-connection.js";

/** One finished run of a task, as the next run's agent sees it (`ctx.conversation`). */
export interface StoredTurn {
  runId: string;
  input: string;
  answer: string;
  status: "succeeded" | "failed" | "cancelled";
  questions: { prompt: string; answer: string }[];
  truncated?: boolean;
}

export interface ConversationBounds {
  /** CONVERSATION_MAX_TURNS: turns kept; the oldest go first. */
  maxTurns: number;
  /** CONVERSATION_MAX_BYTES: bytes of turn JSON kept; the oldest turns go first (the newest is always kept). */
  maxBytes: number;
  /** Characters of one turn's answer kept (its start; `truncated` says it was cut). */
  maxAnswerChars: number;
  ttlSeconds: number;
}

/**
 * A task's conversation: its finished runs as turns, stored with the task (same hash tag, same TTL) so
 * a follow-up on any worker continues it. Written by the worker before a run's terminal event, so the
 * next run — which can only start after that event — always finds it.
 */
export class ConversationStore {
  private readonly redis: ScriptedRedis;
  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.redis = withLuaScripts(redis);
  }

  async turns(taskId: string): Promise<StoredTurn[]> {
    const rows = await this.redis.lrange(this.keys.conversation(taskId), 0, -1);
    const out: StoredTurn[] = [];
    for (const row of rows) {
      try {
        out.push(JSON.parse(row) as StoredTurn);
      } catch {
        // A turn that is not JSON was not written by us; the rest of the conversation still counts.
      }
    }
    return out;
  }

  /** Appends a turn (its answer cut to `maxAnswerChars`) and drops the oldest past the bounds; returns how many were dropped. */
  async append(taskId: string, turn: StoredTurn, bounds: ConversationBounds): Promise<number> {
    const cut = turn.answer.length > bounds.maxAnswerChars;
    const stored: StoredTurn = cut ? { ...turn, answer: turn.answer.slice(0, bounds.maxAnswerChars), truncated: true } : turn;
    const [, , dropped] = await this.redis.acAppendTurn(
      this.keys.conversation(taskId),
      this.keys.task(taskId),
      JSON.stringify(stored),
      bounds.maxTurns,
      bounds.maxBytes,
      bounds.ttlSeconds,
    );
    return dropped;
  }
}
