export {
  type Ack,
  type AckCallback,
  COMMAND_NAMES,
  type CommandName,
  type CommandPayload,
  type CommandResults,
  commandSchemas,
  isCommandName,
  LIMITS,
  payloadErrorOf,
} from "./commands.js";
export {
  ERROR_CODE_NAMES,
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  type ErrorCodeInfo,
  type ErrorScope,
  errorBody,
  isErrorCode,
} from "./errors.js";
export {
  checkEventData,
  type EnvelopeOf,
  EVENT_TYPES,
  type EventData,
  type EventEnvelope,
  type EventType,
  eventDataSchemas,
  eventEnvelopeSchema,
  isEventType,
  isTerminalEventType,
  PROTOCOL_VERSION,
  TERMINAL_EVENT_TYPES,
} from "./events.js";
export { httpBodySchemas, READ_TOKEN_LIMITS, type ReadTokenResponse, SSE_CONTROL_EVENTS } from "./http.js";
export { ID_PATTERN, TASK_ROOM_PREFIX, taskIdOfRoom, taskRoom, USER_ROOM_PREFIX, userRoom } from "./rooms.js";
export {
  RUN_RULE_NAMES,
  RUN_RULES,
  type RuleViolation,
  type RunRule,
  RunRules,
  type RunViolation,
  type ValidateRunEventsOptions,
  validateRunEvents,
} from "./run-rules.js";
export {
  type ClientToServerEvents,
  type ConnectErrorData,
  type ConnectionEstablished,
  type ErrorNotice,
  SERVER_EVENT_NAMES,
  type ServerToClientEvents,
  type TaskCreatedNotice,
  type TaskResetNotice,
} from "./socket-events.js";
