// `switchboard calls list|get|create|update`, run as a user runs them, against the REST API.
// Needs the build (`npx tsc -p tsconfig.build.json`), as every CLI test does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { runCli } from "../helpers/cli.js";
import { type Stack, startStack } from "./helpers/stack.js";

let stack: Stack;
const sids: string[] = [];

beforeAll(async () => {
  stack = await startStack({ outbound: { script: { timeScale: 0 } } });
  await stack.number("+15551233001");
  for (let i = 0; i < 2; i++) sids.push((await stack.call("+15551233001")).callSid);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const api = () => ["--api", stack.api.url];
const creds = () => ["--account", stack.account.sid, "--token", stack.account.token];

describe("switchboard calls", () => {
  it("lists the account's calls as JSON, across pages", async () => {
    const out = await runCli(["calls", "list", ...api(), ...creds(), "--page-size", "1", "--json"]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const calls = JSON.parse(out.stdout) as CallResource[];
    expect(calls.map((c) => c.sid).sort()).toEqual([...sids].sort());
  });

  it("lists as a table and shows one call, with credentials from the environment", async () => {
    const env = { SWITCHBOARD_ACCOUNT_SID: stack.account.sid, SWITCHBOARD_AUTH_TOKEN: stack.account.token };
    const table = await runCli(["calls", "list", ...api(), "--status", "completed"], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^SID\s+STATUS\s+FROM\s+TO\s+STARTED\s+DURATION$/);
    expect(
      lines
        .slice(1)
        .map((l) => l.split(/\s+/)[0])
        .sort(),
    ).toEqual([...sids].sort());
    const one = await runCli(["calls", "get", sids[0] ?? "", ...api()], env);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^call\\s+${sids[0]}$`, "m"));
    expect(one.stdout).toMatch(/^status\s+completed$/m);
  });

  it("reports the API's error code and exits 1", async () => {
    const ended = await runCli([
      "calls",
      "update",
      sids[0] ?? "",
      "--status",
      "completed",
      ...api(),
      ...creds(),
    ]);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toMatch(/^error 21220: /);
    const denied = await runCli([
      "calls",
      "list",
      ...api(),
      "--account",
      stack.account.sid,
      "--token",
      "wrong-token",
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error 20003: /);
  });

  it("creates an outbound call: the Call resource, queued, and the app runs it as outbound-api", async () => {
    const out = await runCli([
      "calls",
      "create",
      "--to",
      "+15559993001",
      "--from",
      "+15551233001",
      "--url",
      `${stack.app.url}/voice`,
      "--status-callback-event",
      "initiated",
      "completed",
      "--status-callback",
      `${stack.app.url}/next`,
      ...api(),
      ...creds(),
      "--json",
    ]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    const call = JSON.parse(out.stdout) as CallResource;
    expect(call).toMatchObject({ status: "queued", direction: "outbound-api", to: "+15559993001" });
    const ran = await stack.app.waitFor((r) => r.path === "/voice" && r.params.CallSid === call.sid);
    expect(ran.params.Direction).toBe("outbound-api");
    const initiated = await stack.app.waitFor((r) => r.path === "/next" && r.params.CallSid === call.sid);
    expect(initiated.params.CallStatus).toBe("initiated");
  });

  it("exits 1 with 21210 for a From the account does not own, and 2 for a usage error", async () => {
    const args = ["calls", "create", "--to", "+15559993001", ...api(), ...creds()];
    const notOurs = await runCli([...args, "--from", "+15550000001", "--url", `${stack.app.url}/voice`]);
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toMatch(/^error 21210: /);
    const nothingToRun = await runCli([...args, "--from", "+15551233001"]);
    expect(nothingToRun.code).toBe(2);
    expect(nothingToRun.stderr).toMatch(/--url or --twiml/);
    const noFrom = await runCli([...args, "--url", `${stack.app.url}/voice`]);
    expect(noFrom.code).toBe(2);
  });
});
