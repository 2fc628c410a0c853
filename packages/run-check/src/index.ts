export { formatReport } from "./format-report.js";
export {
  type CheckResult,
  type CheckStatus,
  DEFAULT_REQUIRED_EVENTS,
  FINAL_STATUSES,
  type FinalStatus,
  type RunReport,
  type ValidateRunOptions,
  validateRun,
} from "./validate-run.js";
