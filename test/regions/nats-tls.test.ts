// NATS over TLS as docs/regions.md ("TLS") tells a deployment to run it: the server's `tls` block with
// a certificate from the deployment's own CA, and every switchboard process given that CA in
// NODE_EXTRA_CA_CERTS. The client upgrades because the server requires TLS: `--nats nats://…` is
// unchanged. Without the CA the process refuses the server's certificate.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSid } from "../../src/model/sid.js";
import { runCli } from "../helpers/cli.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";

let dir: string;
let server: NatsServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-tls-"));
  const at = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  // A deployment's own CA, and the server's certificate for the address clients dial.
  ssl(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=switchboard test CA"],
    ...["-keyout", at("ca-key.pem"), "-out", at("ca.pem")],
  );
  ssl(
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"],
    ...["-keyout", at("server-key.pem"), "-out", at("server.csr")],
  );
  // nats.js upgrades the socket it dialled without passing the host on, so Node checks the certificate
  // against "localhost" when the URL names an IP (a deployment's URLs name hosts: nats-global-a …).
  execFileSync("sh", [
    "-c",
    `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ${at("san.ext")} && openssl x509 -req -in ${at("server.csr")} -CA ${at("ca.pem")} -CAkey ${at("ca-key.pem")} -CAcreateserial -days 1 -extfile ${at("san.ext")} -out ${at("server.pem")}`,
  ]);
  const q = JSON.stringify;
  server = await startTestNatsServer({
    extraConfig: `tls { cert_file: ${q(at("server.pem"))}, key_file: ${q(at("server-key.pem"))} }`,
  });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("NATS over TLS (docs/regions.md)", () => {
  it("connects a switchboard command given the deployment's CA, and refuses the server without it", async () => {
    const args = ["accounts", "add", "--sid", newSid("AC"), "--token", "a".repeat(32), "--nats", server.url];
    const trusted = await runCli(args, { NODE_EXTRA_CA_CERTS: join(dir, "ca.pem") });
    expect(trusted.stderr).toBe("");
    expect(trusted.code).toBe(0);
    const untrusted = await runCli(["accounts", "list", "--nats", server.url], { NODE_EXTRA_CA_CERTS: "" });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate/i);
  }, 60_000);
});
