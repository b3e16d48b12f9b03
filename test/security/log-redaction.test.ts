// Secrets never reach a log line: secret fields are redacted at any depth up to four, credentials
// are cut from URLs (also inside error messages and stacks), and src/ logs no whole account or headers.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { AccountRecord } from "../../src/model/records.js";
import { captureLines } from "./capture.js";

const TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const SIGNING_SECRET = "s3cr3t-signing-key-value";

const account: AccountRecord = {
  sid: "AC0123456789abcdef0123456789abcdef",
  auth_token: TOKEN,
  friendly_name: "Test",
  status: "active",
  date_created: "now",
  date_updated: "now",
  webhook_signing_key: { sid: "KS0123", secret: SIGNING_SECRET, algorithm: "HMAC_SHA256" },
};

function logged(write: (log: ReturnType<typeof createLogger>) => void) {
  const sink = captureLines();
  write(createLogger("test", "trace", sink.stream));
  return sink;
}

describe("log redaction", () => {
  it("redacts an account's auth token and signing key wherever the account sits", () => {
    const sink = logged((log) => {
      log.info(account, "top level");
      log.info({ account }, "one deep");
      log.child({ component: "api" }).warn({ call: { account } }, "two deep, in a child logger");
      log.error({ a: { b: { account } } }, "three deep");
    });
    expect(sink.raw).toHaveLength(4);
    for (const line of sink.raw) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(SIGNING_SECRET);
    }
    const [top, one] = sink.lines();
    expect(top).toMatchObject({
      sid: account.sid,
      auth_token: "[Redacted]",
      webhook_signing_key: "[Redacted]",
    });
    expect(one?.account).toMatchObject({ sid: account.sid, auth_token: "[Redacted]" });
  });

  it("redacts every secret field name the brief lists", () => {
    const secrets = {
      auth_token: "v1",
      authToken: "v2",
      token: "v3",
      password: "v4",
      pass: "v5",
      secret: "v6",
      signingKey: "v7",
      signing_secret: "v8",
      signingSecret: "v9",
    };
    const sink = logged((log) => {
      log.info(secrets, "flat");
      log.info({ opts: secrets }, "nested");
    });
    const [flat, nested] = sink.lines();
    for (const key of Object.keys(secrets)) {
      expect(flat?.[key], key).toBe("[Redacted]");
      expect((nested?.opts as Record<string, unknown> | undefined)?.[key], key).toBe("[Redacted]");
    }
  });

  it("redacts request headers: Authorization, X-Twilio-Signature and cookies", () => {
    const headers = {
      authorization: `Basic ${Buffer.from(`${account.sid}:${TOKEN}`).toString("base64")}`,
      "x-twilio-signature": "c2lnbmF0dXJl",
      cookie: "session=abc",
      "content-type": "application/x-www-form-urlencoded",
    };
    const sink = logged((log) => {
      log.info({ headers }, "headers");
      log.info({ req: { method: "GET", url: "/x", headers } }, "request");
    });
    const [h, r] = sink.lines();
    expect(h?.headers).toEqual({
      authorization: "[Redacted]",
      "x-twilio-signature": "[Redacted]",
      cookie: "[Redacted]",
      "content-type": "application/x-www-form-urlencoded",
    });
    expect((r?.req as { headers?: unknown } | undefined)?.headers).toEqual(h?.headers);
    expect(sink.raw.join("\n")).not.toContain("c2lnbmF0dXJl");
  });

  it("redacts secrets in a child logger's bindings, inside arrays, and in capitalised header names", () => {
    const sink = logged((log) => {
      log.child({ account }).info("bound");
      log.info({ legs: [{ password: "pw1" }, { to: "+1555" }] }, "array");
      log.info({ headers: { Authorization: "Basic abc", Cookie: "s=1" } }, "capitalised");
    });
    expect(sink.raw.join("\n")).not.toMatch(new RegExp(`${TOKEN}|pw1|Basic abc|s=1`));
    const [bound, array, capitalised] = sink.lines();
    expect(bound?.account).toMatchObject({ sid: account.sid, auth_token: "[Redacted]" });
    expect(array?.legs).toEqual([{ password: "[Redacted]" }, { to: "+1555" }]);
    expect(capitalised?.headers).toEqual({ Authorization: "[Redacted]", Cookie: "[Redacted]" });
  });

  it("leaves what it logs untouched", () => {
    const fields = { opts: { password: "pw2" } };
    logged((log) => log.info(fields, "x"));
    expect(fields.opts.password).toBe("pw2");
  });

  it("cuts credentials from URLs in any field, error message or stack", () => {
    const sink = logged((log) => {
      log.info({ url: "https://alice:hunter2@app.example.com/voice?x=1" }, "webhook");
      log.info({ servers: ["nats://api:natspass@10.0.0.1:7422"] }, "connect");
      log.error({ err: new Error("GET https://bob:pa55@app.example.com/v failed") }, "failed");
      log.warn("fetching http://carol:pw%40x@host/ now");
    });
    const text = sink.raw.join("\n");
    for (const secret of ["hunter2", "natspass", "pa55", "pw%40x", "alice", "bob:", "carol"]) {
      expect(text).not.toContain(secret);
    }
    const [webhook, connect, failed, msg] = sink.lines();
    expect(webhook?.url).toBe("https://[Redacted]@app.example.com/voice?x=1");
    expect(connect?.servers).toEqual(["nats://[Redacted]@10.0.0.1:7422"]);
    expect((failed?.err as { message?: string } | undefined)?.message).toBe(
      "GET https://[Redacted]@app.example.com/v failed",
    );
    expect(msg?.msg).toBe("fetching http://[Redacted]@host/ now");
  });

  it("keeps what is not a secret: caller IDs, e-mail-like SIP URIs, sids", () => {
    const sink = logged((log) =>
      log.info({ from: "sip:alice@example.com", callSid: "CA1", to: "+15551230001" }, "x"),
    );
    expect(sink.lines()[0]).toMatchObject({
      from: "sip:alice@example.com",
      callSid: "CA1",
      to: "+15551230001",
    });
  });
});

describe("what src/ logs", () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );
  const root = new URL("../../src/", import.meta.url).pathname;
  // A log call whose first argument names an account, a trunk, a request, its headers, or a credential.
  const SUSPECT =
    /\.(?:trace|debug|info|warn|error|fatal)\(\s*(?:\{[^}]*\b(?:account|accounts|trunk|trunks|req|request|headers|authorization|auth_token|token|secret|signingKey|password)\b[^}]*\}|(?:account|trunk|req|request|headers)\b)/;

  it("never passes a whole AccountRecord, TrunkRecord, request or headers to a logger", () => {
    const hits = files(root).flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          SUSPECT.test(line) ? [`${file.slice(root.length)}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(hits).toEqual([]);
  });
});
