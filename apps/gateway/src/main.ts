import { ConfigError, createLogger, exitWithError, onShutdownSignal } from "@agentcast/runtime";
import { createGateway } from "./app.js";
import { type GatewayConfig, loadGatewayConfig, redactConfig } from "./config.js";

let config: GatewayConfig;
try {
  config = loadGatewayConfig();
} catch (err) {
  exitWithError(err instanceof ConfigError ? err.message : String(err));
}
if (process.argv.includes("--print-config")) {
  process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
  process.exit(0);
}
const logger = createLogger(config.LOG_LEVEL, { gatewayId: config.GATEWAY_ID });
const gateway = createGateway(config, logger);
await gateway.start().catch((err: unknown) => {
  logger.fatal({ err }, "gateway failed to start");
  process.exit(1);
});
onShutdownSignal(logger, () => gateway.stop());
