import { type Logger, pino } from "pino";

/** JSON logs on stdout, bound to `base` (gatewayId / workerId). Token-bearing fields are redacted. */
export function createLogger(level: string, base: Record<string, string>): Logger {
  return pino({ level, base, redact: ["token", "*.token", "authorization", "*.authorization", "headers.authorization"] });
}
