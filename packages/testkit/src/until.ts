/**
 * Polls `probe` every `everyMs` until it returns a value other than `undefined` or `false`, and resolves
 * with that value. After `timeoutMs` it throws `timed out after … waiting for <what>`: a wait in a test
 * never gives up silently and lets the assertion after it pass. `what` may be a function, to say how far
 * it got. Wait on an event instead where there is one (`GatewayTestClient.waitFor`).
 */
export async function until<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
