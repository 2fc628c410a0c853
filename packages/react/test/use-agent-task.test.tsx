import { type AgentcastClient, createClient } from "@agentcast/client";
import { type EventEnvelope, validateRunEvents } from "@agentcast/protocol";
import {
  type GatewayProcess,
  GatewayTestClient,
  type RedisServerHandle,
  signDevToken,
  startGatewayProcess,
  startRedisServer,
  startWorkerProcess,
  type WorkerProcess,
} from "@agentcast/testkit";
import { act, cleanup, fireEvent, render, renderHook, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentcastProvider, useAgentTask } from "../src/index.js";

function TaskPanel({ taskId }: { taskId: string }) {
  const task = useAgentTask(taskId);
  return (
    <div>
      <output aria-label="connection">{task.connection}</output>
      <output aria-label="status">{task.status}</output>
      <progress aria-label="progress" value={task.progress?.percent ?? 0} max={100} />
      <output aria-label="events">{task.events.length}</output>
      {task.pendingQuestion && (
        <button type="button" onClick={() => void task.respond("from the panel")}>
          answer: {task.pendingQuestion.prompt}
        </button>
      )}
    </div>
  );
}

describe("useAgentTask against a real gateway", () => {
  let redis: RedisServerHandle;
  let gateway: GatewayProcess;
  let worker: WorkerProcess;
  let client: AgentcastClient;
  const wrapper = ({ children }: { children: ReactNode }) => <AgentcastProvider client={client}>{children}</AgentcastProvider>;

  beforeAll(async () => {
    redis = await startRedisServer();
    gateway = await startGatewayProcess({ redisUrl: redis.url });
    worker = await startWorkerProcess({ redisUrl: redis.url });
    client = createClient({ url: gateway.url, getToken: () => signDevToken("react-user"), transports: ["websocket"] });
  });
  afterEach(cleanup);
  afterAll(async () => {
    client?.close();
    await worker?.stop();
    await gateway?.stop();
    await redis?.[Symbol.asyncDispose]();
  });

  it("follows a run: progress, the pending question, respond, completion", async () => {
    const { taskId } = await client.send("/ask what is 6*7");
    const { result, unmount } = renderHook(() => useAgentTask(taskId), { wrapper });
    await waitFor(() => expect(result.current.connection).toBe("connected"));
    await waitFor(() => expect(result.current.status).toBe("waiting_for_user"), { timeout: 10_000 });
    expect(result.current.pendingQuestion?.prompt).toContain("42");
    expect(result.current.progress?.percent).toBeGreaterThan(0);
    await act(() => result.current.respond("yes please"));
    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 10_000 });
    expect(result.current.pendingQuestion).toBeNull();
    expect(result.current.progress?.percent).toBe(100);
    expect(validateRunEvents(result.current.events)).toEqual([]);
    // A follow-up through the hook continues the same task, seq continuing.
    let runId = "";
    await act(async () => {
      ({ runId } = await result.current.send("what is 1+1"));
    });
    await waitFor(() => expect(result.current.events.at(-1)).toMatchObject({ runId, type: "agent_completed" }), { timeout: 10_000 });
    expect(result.current.events.map((e) => e.seq)).toEqual(result.current.events.map((_, i) => i + 1));
    unmount();
  });

  it("renders a task panel a user can click through, and cancel works", async () => {
    const { taskId } = await client.send("/ask hello there");
    render(<TaskPanel taskId={taskId} />, { wrapper });
    const button = await screen.findByRole("button", { name: /answer:/ }, { timeout: 10_000 });
    fireEvent.click(button);
    await waitFor(() => expect(screen.getByLabelText("status").textContent).toBe("succeeded"), { timeout: 10_000 });
    expect(screen.getByLabelText("connection").textContent).toBe("connected");

    const slow = await client.send("/slow /tools 5 what is 3*3");
    const { result } = renderHook(() => useAgentTask(slow.taskId), { wrapper });
    await waitFor(() => expect(result.current.status).toBe("running"), { timeout: 10_000 });
    await act(() => result.current.cancel());
    await waitFor(() => expect(result.current.status).toBe("cancelled"), { timeout: 10_000 });
  });

  it("connection goes reconnecting → connected when the transport dies; unmount ends the subscription at the gateway", async () => {
    const own = createClient({
      url: gateway.url,
      getToken: () => signDevToken("react-kill"),
      transports: ["websocket"],
      reconnectDelayMs: 200,
    });
    const ownWrapper = ({ children }: { children: ReactNode }) => <AgentcastProvider client={own}>{children}</AgentcastProvider>;
    const sent: string[] = [];
    own.socket.onAnyOutgoing((name: string) => sent.push(name));
    const { taskId } = await own.send("/slow /tools 6 what is 5*5");
    const connections: string[] = [];
    const { result, unmount } = renderHook(
      () => {
        const task = useAgentTask(taskId);
        connections.push(task.connection);
        return task;
      },
      { wrapper: ownWrapper },
    );
    await waitFor(() => expect(result.current.events.some((e) => e.type === "tool_completed")).toBe(true), { timeout: 10_000 });
    expect(result.current.status).toBe("running");
    act(() => own.socket.io.engine.close()); // the transport dies mid-run
    await waitFor(() => expect(connections).toContain("reconnecting"));
    await waitFor(() => expect(result.current.connection).toBe("connected"), { timeout: 10_000 });
    expect(connections.lastIndexOf("reconnecting")).toBeGreaterThan(connections.indexOf("connected"));
    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });
    expect(result.current.events.map((e) => e.seq)).toEqual(result.current.events.map((_, i) => i + 1));
    expect(validateRunEvents(result.current.events)).toEqual([]);

    // Unmount: the hook closes its handle, the client unsubscribes, and the gateway stops sending the task.
    unmount();
    await waitFor(() => expect(sent).toContain("unsubscribe"));
    const afterUnmount: EventEnvelope[] = [];
    own.socket.on("event", (e) => {
      if (e.taskId === taskId) afterUnmount.push(e);
    });
    await using other = new GatewayTestClient({ url: gateway.url, token: await signDevToken("react-kill") });
    await other.connect();
    const followUp = await other.command("user_message", { text: "what is 1+1", taskId });
    if (!followUp.ok) throw new Error(JSON.stringify(followUp));
    expect((await other.collectRun(taskId)).at(-1)).toMatchObject({ runId: followUp.runId, type: "agent_completed" });
    expect(afterUnmount).toEqual([]);
    expect(own.state).toBe("connected");
    own.close();
  });
});
