import { ConfigError, createLogger, exitWithError, onShutdownSignal } from "@agentcast/runtime";
import { registerAgentModule } from "./agents/agent-module.js";
import { createAgentWorker } from "./app.js";
import { loadWorkerConfig, redactWorkerConfig, type WorkerConfig } from "./config.js";

const agentProblem = await registerAgentModule(process.env);
if (agentProblem) exitWithError(agentProblem);
let config: WorkerConfig;
try {
  config = loadWorkerConfig();
} catch (err) {
  exitWithError(err instanceof ConfigError ? err.message : String(err));
}
if (process.argv.includes("--print-config")) {
  process.stdout.write(`${JSON.stringify(redactWorkerConfig(config), null, 2)}\n`);
  process.exit(0);
}
const logger = createLogger(config.LOG_LEVEL, { workerId: config.WORKER_ID });
const worker = createAgentWorker(config, logger);
await worker.start().catch((err: unknown) => {
  logger.fatal({ err }, "worker failed to start");
  process.exit(1);
});
onShutdownSignal(logger, () => worker.stop());
