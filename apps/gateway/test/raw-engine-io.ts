import { request } from "node:http";
import { WebSocket } from "ws";

/**
 * Raw Engine.IO / Socket.IO requests for tests that must control the query string, the source address
 * and the exact bytes (no client library in between).
 */

export interface RawOptions {
  /** Source address of the TCP connection (any 127.0.0.x works on Linux loopback). */
  localAddress?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One plain HTTP request (node:http, no agent: the path, headers and body go out exactly as given). */
export function rawHttp(baseUrl: string, path: string, opts: RawOptions & { method?: string; body?: string } = {}): Promise<HttpAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        path,
        method: opts.method ?? "GET",
        headers: opts.headers ?? {},
        agent: false,
        timeout: timeoutMs,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${opts.method ?? "GET"} ${path}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** The Engine.IO session id in an open packet (`0{"sid":…}`), else undefined. */
export function openedSid(body: string): string | undefined {
  if (!body.startsWith("0{")) return undefined;
  return (JSON.parse(body.slice(1)) as { sid?: string }).sid;
}

/** A long-polling handshake with `query`: the new session's sid, or the refusal's HTTP status. */
export async function pollingHandshake(baseUrl: string, query: string, opts: RawOptions = {}): Promise<{ status: number; sid?: string }> {
  const res = await rawHttp(baseUrl, `/socket.io/?${query}`, opts);
  const sid = res.status === 200 ? openedSid(res.body) : undefined;
  return sid ? { status: res.status, sid } : { status: res.status };
}

export type WebsocketHandshake = { outcome: "open"; ws: WebSocket; sid: string } | { outcome: "refused"; status: number; body: string };

/**
 * A websocket to `/socket.io/?query`: "open" with the socket once the Engine.IO open packet arrived, or
 * "refused" with the status and body of the refused upgrade (Engine.IO answers every refused upgrade
 * with 400 and the refusal's message as the body).
 */
export function websocketHandshake(baseUrl: string, query: string, opts: RawOptions = {}): Promise<WebsocketHandshake> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/socket.io/?${query}`, {
    headers: opts.headers ?? {},
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`websocket ${query}: neither opened nor refused within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("message", (data: Buffer) => {
      clearTimeout(timer);
      const sid = openedSid(data.toString("utf8"));
      if (sid) resolve({ outcome: "open", ws, sid });
      else reject(new Error(`websocket ${query}: first message was not an open packet: ${data.toString("utf8").slice(0, 80)}`));
    });
    ws.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("close", () => {
        ws.terminate();
        resolve({ outcome: "refused", status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Upgrades an open long-polling session to websocket (probe, then upgrade packet): the upgraded socket. */
export function upgradeSession(baseUrl: string, sid: string, opts: RawOptions = {}): Promise<WebSocket> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const url = `${baseUrl.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`;
  const ws = new WebSocket(url, opts.localAddress ? { localAddress: opts.localAddress } : {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`upgrade of ${sid}: no probe answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("open", () => ws.send("2probe"));
    ws.once("message", (data: Buffer) => {
      clearTimeout(timer);
      if (data.toString("utf8") !== "3probe") return reject(new Error(`upgrade of ${sid}: got ${data.toString("utf8")}`));
      ws.send("5");
      resolve(ws);
    });
    ws.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade of ${sid} refused with ${res.statusCode}`));
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * A Socket.IO connection over a raw websocket, authenticated with `token`. `emit(json)` sends an EVENT
 * whose JSON array the caller wrote byte for byte, with an ack id, and resolves with the parsed ack.
 */
export async function rawSocketIo(baseUrl: string, token: string): Promise<{ emit(json: string): Promise<unknown>; close(): void }> {
  const opened = await websocketHandshake(baseUrl, "EIO=4&transport=websocket");
  if (opened.outcome !== "open") throw new Error(`raw Socket.IO handshake refused with ${opened.status}`);
  const { ws } = opened;
  const waiting = new Map<number, (ack: unknown) => void>();
  let connected: (() => void) | undefined;
  let refused: ((err: Error) => void) | undefined;
  ws.on("message", (data: Buffer) => {
    const text = data.toString("utf8");
    if (text === "2") return ws.send("3"); // Engine.IO ping → pong
    if (text.startsWith("40")) return connected?.();
    if (text.startsWith("44")) return refused?.(new Error(`CONNECT refused: ${text}`));
    const ack = /^43(\d+)(\[.*)$/s.exec(text);
    if (ack) waiting.get(Number(ack[1]))?.((JSON.parse(ack[2] as string) as unknown[])[0]);
  });
  await new Promise<void>((resolve, reject) => {
    connected = resolve;
    refused = reject;
    ws.send(`40${JSON.stringify({ token })}`);
  });
  let nextId = 0;
  return {
    emit(json) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack ${id} within 5000 ms`)), 5_000);
        waiting.set(id, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
        ws.send(`42${id}${json}`);
      });
    },
    close: () => ws.close(),
  };
}
