import type { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses env with a zod schema; throws ConfigError naming every bad variable. Result is frozen. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, what: string): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`);
    throw new ConfigError(`invalid ${what} configuration:\n  ${lines.join("\n  ")}`);
  }
  return Object.freeze(result.data) as Readonly<z.infer<S>>;
}

/** An env port: integer 0-65535 (0 = any free port). */
export function portSchema(zod: typeof z, fallback: number) {
  return zod.coerce.number().int().min(0, "must be a port number 0-65535").max(65535, "must be a port number 0-65535").default(fallback);
}

/** An optional env string where "" means unset. */
export function optionalEnvString(zod: typeof z) {
  return zod
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));
}
