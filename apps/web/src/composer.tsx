import { type FormEvent, useId, useState } from "react";

/** Starts a task, or sends a follow-up when a task is open. */
export function Composer({ label, onSend }: { label: string; onSend: (text: string) => Promise<void> }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Unique per instance: "New task" and "Follow up" are on screen together, each label must name its own input.
  const id = useId();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await onSend(text);
      setText("");
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={id}>{label}</label>
      <div className="row">
        <input id={id} value={text} onChange={(e) => setText(e.target.value)} placeholder='e.g. "/ask what is 6*7"' autoComplete="off" />
        <button type="submit" disabled={busy}>
          Send
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
