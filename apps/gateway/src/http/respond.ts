import type { IncomingMessage, ServerResponse } from "node:http";
import { ERROR_CODES, type ErrorCode, errorBody, payloadErrorOf } from "@agentcast/protocol";
import type { z } from "zod";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

export function sendError(res: ServerResponse, code: ErrorCode, message?: string): void {
  sendJson(res, ERROR_CODES[code].httpStatus, { error: errorBody(code, message) });
}

/** A body or field that failed its schema: `payload_too_large` or `invalid_payload`, as for a command; `field` names it. */
export function sendSchemaError(res: ServerResponse, error: z.ZodError, field?: string): void {
  const body = payloadErrorOf(error);
  sendError(res, body.code, field ? `${field}: ${body.message.replace(/^payload: /, "")}` : body.message);
}

export class BodyError extends Error {
  constructor(
    readonly code: "invalid_payload" | "payload_too_large",
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON body of at most `maxBytes`. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw new BodyError("invalid_payload", "Content-Type must be application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyError("payload_too_large", `body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BodyError("invalid_payload", "body is not valid JSON");
  }
}
