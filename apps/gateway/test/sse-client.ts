import type { EventEnvelope } from "@agentcast/protocol";

/** One SSE frame as the spec parses it (comments kept apart, for heartbeats). */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  /** A comment line (`: …`) on its own. */
  comment?: string;
}

export interface StreamInit {
  method?: string;
  body?: string;
  readDelayMs?: number;
}

/**
 * A streaming HTTP request read as SSE frames, the way `EventSource` parses them (fields `id`, `event`,
 * `data`; a blank line ends a frame; `:` starts a comment). `frames` grows as they arrive.
 */
export class SseStream {
  readonly frames: SseFrame[] = [];
  status = 0;
  headers: Headers | undefined;
  /** Resolves when the server ended the response (or it failed: `error`). */
  readonly ended: Promise<void>;
  error: unknown;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];

  /**
   * `init`: a POST that answers with a stream (AG-UI, the AI SDK's chat) sends its JSON body here;
   * `readDelayMs` makes a slow reader: it waits that long after each chunk before it reads the next.
   */
  constructor(url: string, headers: Record<string, string> = {}, init: StreamInit = {}) {
    this.ended = this.read(url, headers, init);
  }

  /** The task events received (frames whose data is an envelope), in order. */
  get events(): EventEnvelope[] {
    return this.frames.filter((f) => f.id !== undefined && f.data !== undefined).map((f) => JSON.parse(f.data as string) as EventEnvelope);
  }

  /** Waits until `pred` holds over the frames so far (or fails after `timeoutMs`). */
  async until(pred: (frames: SseFrame[]) => boolean, timeoutMs = 15_000, what = "frames"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.ended.finally(() => {
      done = true;
      for (const w of this.waiters.splice(0)) w();
    });
    while (!pred(this.frames)) {
      if (done) throw new Error(`stream ended before ${what}: status ${this.status}, ${this.frames.length} frames`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}: ${this.frames.length} frames`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Drops the connection (as a closed tab or a network failure would). */
  abort(): void {
    this.controller.abort();
  }

  private async read(url: string, headers: Record<string, string>, init: StreamInit): Promise<void> {
    try {
      const res = await fetch(url, {
        method: init.method ?? "GET",
        headers: { accept: "text/event-stream", ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: this.controller.signal,
      });
      this.status = res.status;
      this.headers = res.headers;
      if (!res.body) return;
      const decoder = new TextDecoder();
      let buffer = "";
      let frame: SseFrame = {};
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl = buffer.indexOf("\n");
        while (nl >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, "");
          buffer = buffer.slice(nl + 1);
          if (line === "") {
            if (Object.keys(frame).length > 0) this.frames.push(frame);
            frame = {};
          } else if (line.startsWith(":")) {
            this.frames.push({ comment: line.slice(1).trim() });
          } else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "data") frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
            else if (field === "id" || field === "event") frame[field] = value;
          }
          nl = buffer.indexOf("\n");
        }
        for (const w of this.waiters.splice(0)) w();
        // Pacing, not waiting: a slow reader (readDelayMs) is slow on purpose.
        if (init.readDelayMs) await new Promise((resolve) => setTimeout(resolve, init.readDelayMs));
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.error = err;
    } finally {
      for (const w of this.waiters.splice(0)) w();
    }
  }
}
