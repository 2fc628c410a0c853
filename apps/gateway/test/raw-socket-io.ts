// A bare Engine.IO v4 websocket client: sends and reads raw Socket.IO packets ("40{…}" CONNECT,
// "42[…]" EVENT, …) so tests can do what socket.io-client never does (two CONNECTs on one connection,
// a CONNECT whose TCP connection dies at once).
import { WebSocket } from "ws";

export class RawEngineIo {
  private readonly received: string[] = [];
  /** Every packet received so far, in order (pings excluded), whether or not `next` consumed it. */
  readonly log: string[] = [];
  private waiter: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2")
        ws.send("3"); // Engine.IO ping → pong
      else {
        this.received.push(text);
        this.log.push(text);
      }
      this.waiter?.();
    });
    ws.on("close", () => this.waiter?.());
  }

  /** Opens a websocket Engine.IO session and waits for its open packet ("0{sid,…}"). */
  static async open(gatewayUrl: string, timeoutMs = 5_000): Promise<RawEngineIo> {
    const ws = new WebSocket(`${gatewayUrl.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
    const raw = new RawEngineIo(ws);
    const open = await raw.next((p) => p.startsWith("0"), timeoutMs);
    if (!open.startsWith("0{")) throw new Error(`expected an Engine.IO open packet, got ${open}`);
    return raw;
  }

  /** Sends one Engine.IO message ("4" + a Socket.IO packet); resolves once it is written to the TCP socket. */
  send(packet: string): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(packet, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Sends several Engine.IO messages in one TCP write, so the server reads them in one go (two writes may
   * arrive apart, and the server finish with the first before it reads the second).
   */
  async sendTogether(packets: readonly string[]): Promise<void> {
    const tcp = (this.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    tcp.cork();
    const sent = packets.map((p) => this.send(p));
    tcp.uncork();
    await Promise.all(sent);
  }

  /** A CONNECT to the main namespace with `auth: { token }`. */
  connect(token: string): Promise<void> {
    return this.send(`40${JSON.stringify({ token })}`);
  }

  /** Destroys the TCP connection at once (no close handshake). */
  abort(): void {
    this.ws.terminate();
  }

  close(): void {
    this.ws.close();
  }

  /** The next received packet matching `test` (earlier non-matching ones are skipped), or throws after `timeoutMs`. */
  async next(test: (packet: string) => boolean = () => true, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex(test);
      if (i >= 0) return this.received.splice(0, i + 1).pop() as string;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`connection closed; received ${JSON.stringify(this.received)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching packet within ${timeoutMs} ms; received ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/** Socket.IO answers to a CONNECT: "40{sid}" (connected) or "44{message,data}" (connect_error). */
export const isConnectAnswer = (p: string) => p.startsWith("40") || p.startsWith("44");
