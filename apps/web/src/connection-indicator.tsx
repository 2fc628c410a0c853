import type { ConnectionState } from "@agentcast/client";
import { useConnectionState } from "@agentcast/react";
import { useSyncExternalStore } from "react";

export type Indicator = "connecting" | "connected" | "reconnecting" | "offline";

/**
 * What the indicator says. Connected wins (a gateway on localhost can answer while the browser
 * reports no network). Otherwise "offline" when the client is closed or the browser has no network
 * (there is nothing to reach until it comes back), and "reconnecting" while the client retries a
 * gateway it cannot reach — it keeps retrying with backoff in both cases and resumes on its own.
 */
export function indicatorState(state: ConnectionState, browserOnline: boolean): Indicator {
  if (state === "connected") return "connected";
  if (state === "disconnected" || !browserOnline) return "offline";
  return state;
}

const subscribeOnline = (onChange: () => void) => {
  window.addEventListener("online", onChange);
  window.addEventListener("offline", onChange);
  return () => {
    window.removeEventListener("online", onChange);
    window.removeEventListener("offline", onChange);
  };
};

/** A dot and a word: connected / reconnecting / offline. */
export function ConnectionIndicator() {
  const online = useSyncExternalStore(
    subscribeOnline,
    () => navigator.onLine,
    () => true,
  );
  const state = indicatorState(useConnectionState(), online);
  return (
    <output className={`connection connection-${state}`} aria-live="polite" data-state={state}>
      <span className="dot" aria-hidden="true" /> {state}
    </output>
  );
}
