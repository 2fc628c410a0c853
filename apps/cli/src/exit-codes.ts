/** Exit codes of `agentcast probe`: distinct per failure so CI can tell them apart. */
export const EXIT = {
  ok: 0,
  usage: 1,
  unreachable: 2,
  unauthorized: 3,
  timeout: 4,
  invalidRun: 5,
} as const;
