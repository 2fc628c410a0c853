import WebSocket from "ws";
import { nowUs } from "./clock.js";
import type { LatencyHistogram } from "./histogram.js";
import { parseFrame } from "./payload.js";
import { countTokens, type TokenCounters, type TokenCursor } from "./tokens.js";

export type Protocol = "ws" | "sio" | "agentcast";

export interface ConnSpec {
  /** Server base URL, http://127.0.0.1:port. */
  url: string;
  /** Room name (ws, sio) or task id (agentcast). */
  target: string;
  /** agentcast: the JWT for the task's owner. */
  token?: string;
}

export interface ConnShared {
  protocol: Protocol;
  /** agentcast: subscribe to the task after connection_established (false: an idle connection). */
  subscribe: boolean;
  hist: LatencyHistogram;
  counters: { received: number; unique: number; dups: number; gaps: number; lastRecvUs: number; errors: number };
  /** The `llm` scenario: frames carry 4-byte tokens, counted per connection against its cursor. */
  tokens?: { rate: number; counters: TokenCounters };
}

/**
 * One light benchmark connection over `ws`: raw frames, or Engine.IO v4 / Socket.IO v5 parsed by
 * prefix only (open → CONNECT with auth, ping → pong, events located by substring). Delivery is
 * ordered by `n` (per-step counter of the publisher) or, for agentcast, by the envelope's `seq`.
 */
export class BenchConn {
  ws: WebSocket | undefined;
  ready = false;
  /** Highest n (ws, sio) or seq (agentcast) seen. */
  lastKey = 0;
  /** agentcast: lastSeq in the latest subscribe ack; caughtUpAtUs is set once lastKey reaches it. */
  ackLastSeq = -1;
  caughtUpAtUs = 0;
  closedAtUs = 0;
  /** The `llm` scenario: this connection's stream (set by the harness before the stream starts). */
  cursor: TokenCursor | undefined;
  private onReady: ((ok: boolean) => void) | undefined;

  constructor(
    readonly spec: ConnSpec,
    private readonly shared: ConnShared,
    private readonly localAddress: string,
  ) {}

  /** Connects; resolves true once ready (open / CONNECT ack / subscribed), false on failure or timeout. */
  open(timeoutMs: number, onClose: (c: BenchConn) => void): Promise<boolean> {
    const { protocol } = this.shared;
    const base = this.spec.url.replace(/^http/, "ws");
    const url =
      protocol === "ws" ? `${base}/?room=${encodeURIComponent(this.spec.target)}` : `${base}/socket.io/?EIO=4&transport=websocket`;
    this.ready = false;
    this.ackLastSeq = -1;
    this.caughtUpAtUs = 0;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        if (!this.onReady) return;
        this.onReady = undefined;
        clearTimeout(timer);
        if (!ok) ws.terminate();
        resolve(ok);
      };
      this.onReady = finish;
      const ws = new WebSocket(url, { localAddress: this.localAddress, perMessageDeflate: false, handshakeTimeout: timeoutMs });
      this.ws = ws;
      ws.on("open", () => {
        if (protocol === "ws") this.markReady();
      });
      ws.on("message", (data: Buffer) => this.onFrame(data.toString()));
      ws.on("error", () => {
        this.shared.counters.errors++;
        finish(false);
      });
      ws.on("close", () => {
        const wasReady = this.ready;
        this.ready = false;
        finish(false);
        if (wasReady) {
          this.closedAtUs = nowUs();
          onClose(this);
        }
      });
    });
  }

  private markReady(): void {
    this.ready = true;
    this.onReady?.(true);
  }

  private send(text: string): void {
    this.ws?.send(text);
  }

  private onFrame(frame: string): void {
    const { protocol } = this.shared;
    if (protocol === "ws") {
      this.onEvent(frame);
      return;
    }
    const eio = frame.charCodeAt(0);
    if (eio === 50 /* 2 ping */) {
      this.send("3");
      return;
    }
    if (eio === 48 /* 0 open */) {
      this.send(protocol === "sio" ? `40${JSON.stringify({ room: this.spec.target })}` : `40${JSON.stringify({ token: this.spec.token })}`);
      return;
    }
    if (eio !== 52 /* 4 message */) return;
    const sio = frame.charCodeAt(1);
    if (sio === 50 /* 2 event */) {
      if (frame.startsWith('42["event"') || frame.startsWith('42["e"')) this.onEvent(frame);
      else if (frame.startsWith('42["connection_established"')) this.onEstablished();
      else if (frame.startsWith('42["error"')) this.shared.counters.errors++;
    } else if (sio === 48 /* 0 connect ack */) {
      if (protocol === "sio") this.markReady();
    } else if (sio === 51 /* 3 ack */) {
      this.onSubscribeAck(frame);
    } else if (sio === 52 /* 4 connect error */) {
      this.shared.counters.errors++;
      this.onReady?.(false);
    }
  }

  private onEstablished(): void {
    if (!this.shared.subscribe) {
      this.markReady();
      return;
    }
    this.send(`420${JSON.stringify(["subscribe", { taskId: this.spec.target, sinceSeq: this.lastKey }])}`);
  }

  private onSubscribeAck(frame: string): void {
    if (!frame.includes('"ok":true')) {
      this.shared.counters.errors++;
      this.onReady?.(false);
      return;
    }
    const m = /"lastSeq":(\d+)/.exec(frame);
    this.ackLastSeq = m ? Number(m[1]) : 0;
    if (this.lastKey >= this.ackLastSeq) this.caughtUpAtUs = nowUs();
    this.markReady();
  }

  private onEvent(frame: string): void {
    const tokens = this.shared.tokens;
    if (tokens) {
      if (this.cursor) countTokens(frame, this.cursor, tokens.rate, tokens.counters, (us) => this.shared.hist.record(us));
      return;
    }
    const e = parseFrame(frame);
    const c = this.shared.counters;
    if (!e) return;
    const now = nowUs();
    c.received++;
    c.lastRecvUs = now;
    this.shared.hist.record(now - e.publishedAtUs);
    const key = e.seq >= 0 ? e.seq : e.n;
    if (key > this.lastKey) {
      c.unique++;
      if (key > this.lastKey + 1) c.gaps += key - this.lastKey - 1;
      this.lastKey = key;
    } else {
      c.dups++;
    }
    if (this.ackLastSeq >= 0 && this.caughtUpAtUs === 0 && this.lastKey >= this.ackLastSeq) this.caughtUpAtUs = now;
  }
}
