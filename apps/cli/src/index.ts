/** The probe as a library (the `agentcast` command is bin/agentcast.mjs). */
export { parseDuration } from "./duration.js";
export { EXIT } from "./exit-codes.js";
export { toJUnit } from "./junit.js";
export { type ProbeOptions, type ProbeResult, parseExpect, parseExpectStatus, probe, reportProbe } from "./probe.js";
