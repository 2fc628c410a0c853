import { type AgentcastClient, createClient } from "@agentcast/client";
import { AgentcastProvider } from "@agentcast/react";
import { useEffect, useState } from "react";
import { Composer } from "./composer.js";
import { ConnectionIndicator } from "./connection-indicator.js";
import { SignIn } from "./sign-in.js";
import { TaskList } from "./task-list.js";
import { TaskView } from "./task-view.js";

const TOKEN_KEY = "agentcast.token";
const TASK_KEY = "agentcast.task";
/** The gateway: same origin by default (the local stack serves the console), or ?gateway=… */
const baseUrl = new URLSearchParams(window.location.search).get("gateway") ?? window.location.origin;

export function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY));
  const [client, setClient] = useState<AgentcastClient | null>(null);
  const [taskId, setTaskId] = useState<string | undefined>(() => sessionStorage.getItem(TASK_KEY) ?? undefined);
  /** Why the gateway refused the token (shown on the sign-in form). */
  const [authError, setAuthError] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return;
    const c = createClient({ url: baseUrl, token });
    const off = c.on("error", (err) => {
      if (!err.code.startsWith("token_")) return;
      sessionStorage.removeItem(TOKEN_KEY);
      setAuthError(`Unauthorized (${err.code}): ${err.message}`);
      setToken(null);
    });
    setClient(c);
    return () => {
      off();
      c.close();
    };
  }, [token]);
  useEffect(() => {
    if (taskId) sessionStorage.setItem(TASK_KEY, taskId);
  }, [taskId]);

  if (!token || !client) {
    return (
      <SignIn
        error={authError}
        onToken={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setAuthError(null);
          setToken(t);
        }}
      />
    );
  }
  return (
    <AgentcastProvider client={client}>
      <div className="layout">
        <header className="top">
          <h1>agentcast</h1>
          <ConnectionIndicator />
          <button
            type="button"
            onClick={() => {
              sessionStorage.clear();
              setToken(null);
              setTaskId(undefined);
            }}
          >
            Sign out
          </button>
        </header>
        <TaskList baseUrl={baseUrl} token={token} selected={taskId} onSelect={setTaskId} />
        <main>
          <Composer
            label="New task"
            onSend={async (text) => {
              const { taskId: id } = await client.send(text);
              setTaskId(id);
            }}
          />
          {taskId ? <TaskView key={taskId} taskId={taskId} /> : <p className="hint">Send a message to start a task.</p>}
        </main>
      </div>
    </AgentcastProvider>
  );
}
