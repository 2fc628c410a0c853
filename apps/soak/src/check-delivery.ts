import type { EventEnvelope } from "@agentcast/protocol";
import type { SoakStats } from "./stats.js";

/**
 * Compares what one client received of a run with the run's history (the source of truth):
 * every history seq must have arrived, once, in increasing order.
 */
export function checkDelivery(received: readonly EventEnvelope[], history: readonly EventEnvelope[], stats: SoakStats): void {
  const seqs = received.map((e) => e.seq);
  const unique = new Set(seqs);
  stats.duplicates += seqs.length - unique.size;
  for (let i = 1; i < seqs.length; i++) if ((seqs[i] as number) <= (seqs[i - 1] as number)) stats.outOfOrder++;
  for (const e of history) if (!unique.has(e.seq)) stats.lost++;
  stats.eventsReceived += seqs.length;
}

/** A run's events from the gateway's HTTP API (owner token), paging through the task's whole history. */
export async function runHistory(baseUrl: string, token: string, taskId: string, runId: string): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  let sinceSeq = 0;
  for (let page = 0; page < 100; page++) {
    const res = await fetch(`${baseUrl}/v1/tasks/${encodeURIComponent(taskId)}/events?sinceSeq=${sinceSeq}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`history: HTTP ${res.status}`); // no task id: errors are counted by message
    const body = (await res.json()) as { events: EventEnvelope[] };
    if (body.events.length === 0) break;
    events.push(...body.events);
    sinceSeq = (body.events.at(-1) as EventEnvelope).seq;
  }
  return events.filter((e) => e.runId === runId);
}
