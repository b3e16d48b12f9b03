// `switchboard call`, `trace` and `calls list` as a user runs them: exit codes that tell a call that
// went well from one that did not, the geographic parameters, and a reader that goes away (`| head`).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../api/helpers/stack.js";
import { runCli } from "../helpers/cli.js";

let stack: Stack;
const NUMBER = "+15551234401";
const UNCONFIGURED = "+15551234499";

beforeAll(async () => {
  stack = await startStack();
  await stack.number(NUMBER);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

// The CLI logs in as an operator would (the stack runs every role on its shipped NATS user).
const nats = () => ["--nats", stack.nats.urlAs("admin")];

describe("switchboard call", () => {
  it("exits 0 for a call that completed and prints its duration", async () => {
    const ran = await runCli(["call", "--to", NUMBER, "--from", "+15557654321", ...nats()]);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/ended {4}completed in us1, duration \d+ s$/m);
  });

  it("exits 1 for a call that failed, and prints no duration it does not have", async () => {
    const ran = await runCli(["call", "--to", UNCONFIGURED, "--from", "+15557654321", ...nats()]);
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/ended {4}failed in us1, error 90004: /m);
    expect(ran.stdout).not.toMatch(/duration/);
    const json = await runCli(["call", "--to", UNCONFIGURED, "--from", "+15557654321", "--json", ...nats()]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "failed", error_code: 90004 });
  });

  it("sends the --geo parameters to the webhook, with Twilio's legacy copies", async () => {
    const ran = await runCli([
      "call",
      "--to",
      NUMBER,
      "--from",
      "+353861234567",
      "--geo",
      "FromCity=Dublin",
      "--geo",
      "FromCountry=IE",
      "--json",
      ...nats(),
    ]);
    expect(ran.code).toBe(0);
    const sid = (JSON.parse(ran.stdout) as { sid: string }).sid;
    const request = await stack.app.waitFor((r) => r.params.CallSid === sid);
    expect(request.params).toMatchObject({ FromCity: "Dublin", FromCountry: "IE", CallerCity: "Dublin" });
    expect(request.signatureValid).toBe(true);
  });

  it("refuses a --geo name Twilio does not send, as a usage error", async () => {
    const ran = await runCli(["call", "--to", NUMBER, "--from", "+15557654321", "--geo", "Town=Cork"]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--geo.*FromCity/);
  });

  it("reports a missing --script file as a file error, not a Twilio code", async () => {
    const ran = await runCli([
      "call",
      "--to",
      NUMBER,
      "--from",
      "+15557654321",
      "--script",
      "/nonexistent/caller.json",
      ...nats(),
    ]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toBe("error: cannot read the script /nonexistent/caller.json: no such file\n");
  });
});

describe("a reader that goes away (| head)", () => {
  it("ends call, trace and calls list quietly, with no stack trace", async () => {
    const call = await runCli(
      ["call", "--to", NUMBER, "--from", "+15557654321", ...nats()],
      {},
      {
        stdoutClosed: true,
      },
    );
    expect(call).toMatchObject({ code: 0, stderr: "" });

    const sid = (await stack.call(NUMBER)).callSid;
    const trace = await runCli(["trace", sid, ...nats()], {}, { stdoutClosed: true });
    expect(trace).toMatchObject({ code: 0, stderr: "" });

    const creds = ["--account", stack.account.sid, "--token", stack.account.token];
    const list = await runCli(
      ["calls", "list", "--api", stack.api.url, ...creds],
      {},
      { stdoutClosed: true },
    );
    expect(list).toMatchObject({ code: 0, stderr: "" });
  });
});
