// Runs the agentcast worker (AGENTCAST_WORKER_MAIN) with your own agent (AGENTCAST_AGENT_MODULE): the
// module's default export (or `createAgent`) is an agent `{ name, run(ctx) }` or a factory returning
// one. It is registered as AGENT (default "custom") before the worker reads its configuration.
// Started by @agentcast/testkit's startWorkerProcess({ agentModule }) / startLocalStack({ agentModule }).
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const workerMain = process.env.AGENTCAST_WORKER_MAIN;
const agentModule = process.env.AGENTCAST_AGENT_MODULE;
if (!workerMain || !agentModule) {
  process.stderr.write("agent-worker: AGENTCAST_WORKER_MAIN and AGENTCAST_AGENT_MODULE are required\n");
  process.exit(1);
}
const name = process.env.AGENT || "custom";
process.env.AGENT = name;

const mod = await import(pathToFileURL(agentModule).href);
const exported = mod.default ?? mod.createAgent;
if (!exported || (typeof exported !== "function" && typeof exported.run !== "function")) {
  process.stderr.write(`agent-worker: ${agentModule} must export (default or createAgent) an agent or a factory of one\n`);
  process.exit(1);
}
const { AGENTS } = await import(pathToFileURL(join(dirname(workerMain), "agents", "registry.js")).href);
AGENTS[name] = typeof exported === "function" ? exported : () => exported;
await import(pathToFileURL(workerMain).href);
