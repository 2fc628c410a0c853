import { createServer, type Socket, connect as tcpConnect } from "node:net";

/** A command as the client sent it: its name (upper case) and arguments, as text. */
export interface SentCommand {
  name: string;
  args: string[];
}

export interface CommandFault {
  /** How many commands this fault has cut so far. */
  readonly hits: number;
  /** Cut no more. */
  stop(): void;
}

export interface RedisFaultProxy extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>`: give it to a process as its REDIS_URL. */
  readonly url: string;
  /**
   * The next `times` commands (Infinity = all) that `matches` selects get an error reply from Redis instead
   * of running (the proxy swaps each for a command Redis does not know, so the error comes back in order),
   * as an OOM, READONLY or other error reply would.
   */
  failWhen(matches: (command: SentCommand) => boolean, times?: number): CommandFault;
  /**
   * The next `times` commands that `matches` selects never reach Redis: the connection that sent each one
   * is cut at that moment, as a network failure would. (ioredis resends a command that was in flight when
   * its connection dropped once it reconnects, however long that takes.)
   */
  cutWhen(matches: (command: SentCommand) => boolean, times?: number): CommandFault;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real redis-server that reads the RESP commands clients send, so a test can
 * fail exactly one kind of command (a SET of one key, one script) and nothing else — a fault no
 * configuration of Redis itself can produce.
 */
export async function startRedisFaultProxy(upstreamPort: number): Promise<RedisFaultProxy> {
  const faults: Fault[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(upstreamPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", cut).on("error", cut);
    upstream.on("close", cut).on("error", cut);
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const parsed = readCommand(pending);
        if (!parsed) return;
        const fault = faults.find((f) => f.left > 0 && f.matches(parsed.command));
        if (fault) {
          fault.left--;
          fault.hits++;
          if (fault.kind === "cut") return cut();
          upstream.write(INJECTED_ERROR);
        } else upstream.write(pending.subarray(0, parsed.length));
        pending = pending.subarray(parsed.length);
      }
    });
  });
  const add = (fault: Fault): CommandFault => {
    faults.push(fault);
    return {
      get hits() {
        return fault.hits;
      },
      stop: () => {
        fault.left = 0;
      },
    };
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    failWhen: (matches, times = Number.POSITIVE_INFINITY) => add({ kind: "fail", matches, left: times, hits: 0 }),
    cutWhen: (matches, times = Number.POSITIVE_INFINITY) => add({ kind: "cut", matches, left: times, hits: 0 }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface Fault {
  kind: "fail" | "cut";
  matches: (c: SentCommand) => boolean;
  left: number;
  hits: number;
}

/** A command no Redis knows: its error reply takes the place of the command it replaces. */
const INJECTED_COMMAND = "AGENTCAST-INJECTED-FAULT";
const INJECTED_ERROR = Buffer.from(`*1\r\n$${INJECTED_COMMAND.length}\r\n${INJECTED_COMMAND}\r\n`);

/** One RESP array of bulk strings at the start of `buf`, or undefined when it is not complete yet. */
function readCommand(buf: Buffer): { command: SentCommand; length: number } | undefined {
  const line = (from: number) => {
    const end = buf.indexOf("\r\n", from);
    return end < 0 ? undefined : { text: buf.toString("latin1", from, end), next: end + 2 };
  };
  const head = line(0);
  if (!head) return undefined;
  if (!head.text.startsWith("*")) throw new Error(`not a RESP array: ${head.text.slice(0, 20)}`);
  const count = Number(head.text.slice(1));
  const parts: string[] = [];
  let at = head.next;
  for (let i = 0; i < count; i++) {
    const size = line(at);
    if (!size) return undefined;
    const length = Number(size.text.slice(1));
    if (size.next + length + 2 > buf.length) return undefined;
    parts.push(buf.toString("utf8", size.next, size.next + length));
    at = size.next + length + 2;
  }
  const [name = "", ...args] = parts;
  return { command: { name: name.toUpperCase(), args }, length: at };
}
