import { type FormEvent, useState } from "react";

/** Paste a JWT (the local stack prints a dev token) to sign in. */
export function SignIn({ error, onToken }: { error?: string | null; onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <main className="sign-in">
      <h1>agentcast console</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">Token (JWT)</label>
        <textarea
          id="token"
          rows={4}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="eyJhbGciOi…"
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "token-error" : undefined}
        />
        {error && (
          <p id="token-error" role="alert" className="error">
            {error}
          </p>
        )}
        <p className="hint">
          <code>npm start</code> prints a dev token; <code>npx agentcast token --sub you</code> makes one.
        </p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
