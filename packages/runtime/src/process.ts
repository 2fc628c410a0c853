import type { Logger } from "pino";

/** Ends the process with a message on stderr (boot failures, before a logger exists). */
export function exitWithError(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** Calls `stop` once on SIGTERM/SIGINT, then exits 0 (or 1 if stopping failed). */
export function onShutdownSignal(logger: Logger, stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping");
      stop(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, "stop failed");
          process.exit(1);
        },
      );
    });
  }
}

/** Rejects if `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
