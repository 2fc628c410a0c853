/**
 * With `getToken`: swaps in a fresh token shortly before the current one expires (`auth_refresh`
 * on the open connection, no reconnect). If that fails, the server disconnects at expiry and the
 * reconnect asks `getToken` again.
 */
export class TokenRefresh {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly getToken: (() => string | Promise<string>) | undefined,
    /** Sends `auth_refresh` on the current connection; false when not connected. */
    private readonly refresh: (token: string) => Promise<boolean>,
  ) {}

  /** Plans the refresh of `token` (the current connection's). */
  schedule(token: string | undefined): void {
    this.stop();
    const exp = expiryOf(token);
    if (!this.getToken || exp === undefined) return;
    const lifetimeMs = exp * 1000 - Date.now();
    const inMs = Math.max(0, lifetimeMs - Math.min(30_000, lifetimeMs / 5));
    this.timer = setTimeout(
      async () => {
        try {
          const fresh = await this.getToken?.();
          if (fresh && (await this.refresh(fresh))) this.schedule(fresh);
        } catch {
          // The server disconnects at expiry; the reconnect asks getToken again.
        }
      },
      Math.min(inMs, 2 ** 31 - 1),
    );
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** The `exp` claim of a JWT (seconds), without verifying it. */
function expiryOf(token: string | undefined): number | undefined {
  const payload = token?.split(".")[1];
  if (!payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: unknown };
    return typeof json.exp === "number" ? json.exp : undefined;
  } catch {
    return undefined;
  }
}
