import type { SilentFailure } from "@agentcast/runtime";
import type { TaskStore } from "@agentcast/store";
import type { Logger } from "pino";
import type { Socket } from "socket.io";
import type { VerifiedToken } from "../auth/token-verifier.js";
import type { RunService } from "../runs/run-service.js";
import type { SubscriptionRegistry } from "../subscriptions/subscription-registry.js";
import type { Viewer } from "../subscriptions/viewer.js";

/** What a command handler may use. */
export interface CommandContext {
  socket: Socket;
  /** The socket as the subscriptions' viewer. */
  viewer: Viewer;
  userId: string;
  logger: Logger;
  tasks: TaskStore;
  subscriptions: SubscriptionRegistry;
  runs: RunService;
  silentFailure: (kind: SilentFailure) => void;
  /** Verifies a token offered by auth_refresh. */
  verifyToken: (token: string) => Promise<VerifiedToken>;
  /** The connection's token now expires at `expiresAt` (epoch seconds; undefined = never). */
  setExpiry: (expiresAt: number | undefined) => void;
  /** Called after an answer is accepted: checks later that a run consumed it (ack_timeout). */
  watchAnswer: (taskId: string, questionId: string) => void;
  /** Set when the socket holds a read token: it may only subscribe to (and replay) this task. */
  readScope?: { taskId: string; tokenId: string } | undefined;
  /** The socket's read token is still live (checked once a subscription is in the task's room). */
  readTokenLive?: () => Promise<boolean>;
}
