import { useConnectionState } from "@agentcast/react";

const LABEL = { connecting: "connecting", connected: "connected", reconnecting: "reconnecting", disconnected: "offline" } as const;

/** A dot and a word: connected / reconnecting / offline. */
export function ConnectionIndicator() {
  const state = useConnectionState();
  return (
    <output className={`connection connection-${state}`} aria-live="polite" data-state={LABEL[state]}>
      <span className="dot" aria-hidden="true" /> {LABEL[state]}
    </output>
  );
}
