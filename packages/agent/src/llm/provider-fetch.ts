/** The provider did not answer (or stopped streaming) for LLM_TIMEOUT_MS. */
export class LlmTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    phase: "response" | "stream",
  ) {
    super(
      phase === "response" ? `the provider did not answer within ${timeoutMs} ms` : `the provider's stream stalled for ${timeoutMs} ms`,
    );
    this.name = "LlmTimeoutError";
  }
}

export interface ProviderFetchOptions {
  /** LLM_MAX_RETRIES: attempts after the first, on 429, 5xx, a network error or a timeout before the answer. */
  maxRetries: number;
  /** LLM_TIMEOUT_MS: for the response's headers, and then between two chunks of its body. */
  timeoutMs: number;
  /** Called once per HTTP attempt when its outcome is known (headers received, or failed). */
  onAttempt?: (a: { seconds: number; status: number | "network" | "timeout"; willRetry: boolean }) => void;
  /** Longest wait between attempts (also for a longer Retry-After). Default 10 s. */
  maxWaitMs?: number;
  fetch?: typeof fetch;
}

const MAX_WAIT_MS = 10_000;
const retryableStatus = (status: number) => status === 429 || status >= 500;

/** Retry-After (seconds or an HTTP date) in ms, if the response has a usable one. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before attempt `attempt + 1`: Retry-After when given, else exponential from 500 ms; jittered, capped. */
export function retryDelayMs(attempt: number, retryAfter: number | undefined, maxWaitMs = MAX_WAIT_MS, random = Math.random): number {
  if (retryAfter !== undefined) return Math.min(maxWaitMs, retryAfter + random() * 250);
  const base = Math.min(maxWaitMs, 500 * 2 ** attempt);
  return Math.min(maxWaitMs, base / 2 + random() * (base / 2));
}

function abortableSleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A `fetch` for the provider SDK: each attempt has LLM_TIMEOUT_MS to answer and then LLM_TIMEOUT_MS
 * between two chunks of its body; 429, 5xx, network errors and timeouts before the answer are retried
 * up to `maxRetries` times, waiting as Retry-After says (at most 10 s) or with jittered exponential
 * backoff. The caller's signal (the run's cancel) aborts the request at once, whatever it is doing.
 */
export function providerFetch(o: ProviderFetchOptions): typeof fetch {
  const doFetch = o.fetch ?? fetch;
  const maxWaitMs = o.maxWaitMs ?? MAX_WAIT_MS;
  return async (input, init) => {
    const outer = init?.signal;
    for (let attempt = 0; ; attempt++) {
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onOuterAbort = () => {
        clearTimeout(timer);
        controller.abort(outer?.reason);
      };
      if (outer?.aborted) throw outer.reason;
      outer?.addEventListener("abort", onOuterAbort, { once: true });
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      timer = setTimeout(() => controller.abort(new LlmTimeoutError(o.timeoutMs, "response")), o.timeoutMs);
      const canRetry = attempt < o.maxRetries;
      let res: Response;
      try {
        res = await doFetch(input, { ...init, signal: controller.signal });
      } catch (err) {
        clearTimeout(timer);
        outer?.removeEventListener("abort", onOuterAbort);
        if (outer?.aborted) throw outer.reason;
        const reason = controller.signal.aborted ? controller.signal.reason : err;
        o.onAttempt?.({ seconds: seconds(), status: reason instanceof LlmTimeoutError ? "timeout" : "network", willRetry: canRetry });
        if (!canRetry) throw reason;
        await abortableSleep(retryDelayMs(attempt, undefined, maxWaitMs), outer);
        continue;
      }
      clearTimeout(timer);
      const retry = retryableStatus(res.status) && canRetry;
      o.onAttempt?.({ seconds: seconds(), status: res.status, willRetry: retry });
      if (retry) {
        outer?.removeEventListener("abort", onOuterAbort);
        await res.body?.cancel().catch(() => undefined);
        await abortableSleep(retryDelayMs(attempt, retryAfterMs(res.headers.get("retry-after")), maxWaitMs), outer);
        continue;
      }
      if (!res.body) return res;
      // The body: a stall longer than the timeout aborts the request (the SDK sees the stream fail).
      const stall = () => controller.abort(new LlmTimeoutError(o.timeoutMs, "stream"));
      timer = setTimeout(stall, o.timeoutMs);
      const watched = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            clearTimeout(timer);
            timer = setTimeout(stall, o.timeoutMs);
            c.enqueue(chunk);
          },
          flush() {
            clearTimeout(timer);
            outer?.removeEventListener("abort", onOuterAbort);
          },
        }),
      );
      return new Response(watched, { status: res.status, statusText: res.statusText, headers: res.headers });
    }
  };
}
