import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificates {
  readonly dir: string;
  /** The CA that signed the server certificate: give it to clients (e.g. NODE_EXTRA_CA_CERTS). */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A throwaway CA and a server certificate signed by it, made with the `openssl` CLI in a temp directory.
 * The certificate names only `hostnames` (DNS names, no IP address), as a managed Redis endpoint's does:
 * a client that connects by IP address fails to verify it.
 */
export async function makeTestCertificates(hostnames: readonly string[] = ["localhost"]): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), "agentcast-tls-"));
  const at = (f: string) => join(dir, f);
  const openssl = process.env.OPENSSL_BIN ?? "openssl";
  const quiet = { timeout: 30_000 };
  await run(
    openssl,
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      at("ca.key"),
      "-out",
      at("ca.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=agentcast test CA",
    ],
    quiet,
  );
  await run(
    openssl,
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      at("server.key"),
      "-out",
      at("server.csr"),
      "-subj",
      `/CN=${hostnames[0] ?? "localhost"}`,
    ],
    quiet,
  );
  writeFileSync(at("ext.cnf"), `subjectAltName=${hostnames.map((h) => `DNS:${h}`).join(",")}\n`);
  await run(
    openssl,
    [
      "x509",
      "-req",
      "-in",
      at("server.csr"),
      "-CA",
      at("ca.pem"),
      "-CAkey",
      at("ca.key"),
      "-CAcreateserial",
      "-out",
      at("server.pem"),
      "-days",
      "2",
      "-extfile",
      at("ext.cnf"),
    ],
    quiet,
  );
  return { dir, caFile: at("ca.pem"), certFile: at("server.pem"), keyFile: at("server.key") };
}
