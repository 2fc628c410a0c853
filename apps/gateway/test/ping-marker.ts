// The marker that ends a negative check ("nothing else arrives") at a point after anything that should not.
// (Waiting on a condition: `until` from @agentcast/testkit.)
import type { GatewayTestClient } from "@agentcast/testkit";

/**
 * A `ping` sent now is answered after everything the gateway wrote to this socket before it read the
 * ping (one connection, one order). So once the gateway is known to have handled what should not reach
 * this socket — another socket on the same gateway received it, or the refusal was acked — whatever did
 * leak has arrived before this resolves.
 */
export async function pingMarker(client: GatewayTestClient): Promise<void> {
  const ack = await client.command("ping");
  if (!ack.ok) throw new Error(`the ping marker was refused: ${JSON.stringify(ack)}`);
}
