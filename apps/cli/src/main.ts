import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { parseDuration } from "./duration.js";
import { EXIT } from "./exit-codes.js";
import { parseExpect, parseExpectStatus, probe, reportProbe } from "./probe.js";

const USAGE = `usage:
  agentcast probe <url> --token <jwt> [--message "..."] [--expect agent_started,...] [--timeout 30s]
                  [--expect-status succeeded[,cancelled]] [--junit out.xml] [--json] [--transport websocket|polling]
  agentcast token --sub <userId> (--secret <hs256 secret> | env JWT_SECRET) [--ttl 1h] [--claim k=v ...]
  agentcast --help

probe exit codes: 0 ok, 1 usage, 2 unreachable, 3 unauthorized, 4 timeout, 5 invalid run`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(EXIT.usage);
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const wantsHelp = (a: string) => a === "--help" || a === "-h";
  if (command !== undefined && (wantsHelp(command) || command === "help" || rest.some(wantsHelp))) {
    out(USAGE);
    return EXIT.ok;
  }
  if (command === "probe") {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        token: { type: "string" },
        message: { type: "string", default: "/tools 2 what is 6*7" },
        expect: { type: "string" },
        "expect-status": { type: "string", default: "succeeded" },
        timeout: { type: "string", default: "30s" },
        junit: { type: "string" },
        json: { type: "boolean", default: false },
        transport: { type: "string", default: "websocket" },
      },
    });
    const url = positionals[0];
    if (!url) return fail("probe: the gateway URL is required");
    const token = values.token ?? process.env.AGENTCAST_TOKEN;
    if (!token) return fail("probe: --token (or env AGENTCAST_TOKEN) is required");
    if (values.transport !== "websocket" && values.transport !== "polling") return fail("probe: --transport must be websocket or polling");
    const opts = {
      url,
      token,
      message: values.message,
      expect: parseExpect(values.expect),
      expectStatus: parseExpectStatus(values["expect-status"]),
      timeoutMs: parseDuration(values.timeout),
      junit: values.junit,
      json: values.json,
      transports: [values.transport] as ("websocket" | "polling")[],
    };
    return reportProbe(await probe(opts), opts, out);
  }
  if (command === "token") {
    const { values } = parseArgs({
      args: rest,
      options: {
        sub: { type: "string" },
        secret: { type: "string" },
        ttl: { type: "string", default: "1h" },
        claim: { type: "string", multiple: true },
      },
    });
    const secret = values.secret ?? process.env.JWT_SECRET;
    if (!values.sub) return fail("token: --sub is required");
    if (!secret) return fail("token: --secret (or env JWT_SECRET) is required");
    const claims = Object.fromEntries((values.claim ?? []).map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]));
    const ttlSeconds = Math.round(parseDuration(values.ttl) / 1000);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(values.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(new TextEncoder().encode(secret));
    out(token);
    return EXIT.ok;
  }
  return fail(command ? `unknown command: ${command}` : "a command is required");
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.usage);
  },
);
