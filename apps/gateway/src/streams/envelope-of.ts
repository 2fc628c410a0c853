import type { EventEnvelope } from "@agentcast/protocol";
import type { OutboundEvent } from "../subscriptions/outbound-event.js";

/** The event's envelope, parsed (for protocols that map each event's data into their own frames). */
export function envelopeOf(event: OutboundEvent): EventEnvelope {
  const json = event.json();
  return JSON.parse(typeof json === "string" ? json : json.toString("utf8")) as EventEnvelope;
}
