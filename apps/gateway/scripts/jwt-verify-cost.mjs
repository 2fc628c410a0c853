// CPU per HS256 verify through jose's jwtVerify: the secret as raw bytes (jose imports a CryptoKey for
// every token) vs a CryptoKey imported once (what src/auth/token-verifier.ts does). 5,000 tokens,
// alternating rounds. `docs/benchmarks.md` records what it found.
//   node apps/gateway/scripts/jwt-verify-cost.mjs        (from the repository root, after npm install)
import { jwtVerify, SignJWT } from "jose";

const secret = new TextEncoder().encode("dev-secret-dev-secret-dev-secret");
const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
const tokens = await Promise.all(
  Array.from({ length: 5_000 }, (_, i) =>
    new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(`u${i}`).setExpirationTime("1h").sign(secret),
  ),
);
for (const [name, k] of [
  ["raw bytes", secret],
  ["CryptoKey", key],
  ["raw bytes", secret],
  ["CryptoKey", key],
]) {
  const cpu0 = process.cpuUsage();
  await Promise.all(tokens.map((t) => jwtVerify(t, k, { algorithms: ["HS256"] })));
  const cpu = process.cpuUsage(cpu0);
  console.log(`${name.padEnd(10)} ${((cpu.user + cpu.system) / tokens.length).toFixed(1)} µs of CPU per verify`);
}
