// The README's first command: `switchboard up` starts its own nats-server, the edges, the regions,
// the api and a demo app, prints `ready <api-url>` and a call line that works as printed.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { runCli, startCli } from "../helpers/cli.js";
import { startTwilioApp } from "../helpers/twilio-app.js";

describe("switchboard up", () => {
  it("serves the demo number end to end and stops cleanly", async () => {
    const data = await mkdtemp(join(tmpdir(), "sb-up-"));
    try {
      await using up = startCli(["up", "--nats-port", "-1", "--port", "0", "--data", data]);
      const ready = await up.waitForLine(/^ready /);
      const apiUrl = ready.slice("ready ".length);
      const hint = await up.waitForLine(/^make a first call: npx switchboard call /);
      const account = await up.waitForLine(/^account AC[0-9a-f]{32} token [0-9a-f]{32}$/);
      const [, sid, token] = /^account (\S+) token (\S+)$/.exec(account) ?? [];

      expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);

      // The hint's arguments, run as printed (plus --json to read the result).
      const args = hint.replace(/^make a first call: npx switchboard /, "").split(" ");
      const placed = await runCli([...args, "--json"]);
      expect(placed.stderr).toBe("");
      const call = JSON.parse(placed.stdout) as CallResource;
      expect(call).toMatchObject({
        status: "completed",
        to: "+15005550006",
        account_sid: sid,
        error_code: null,
      });

      // The api serves the stored call to its account with Twilio's shape.
      const auth = `Basic ${Buffer.from(`${sid}:${token}`).toString("base64")}`;
      const res = await fetch(`${apiUrl}/2010-04-01/Accounts/${sid}/Calls/${call.sid}.json`, {
        headers: { authorization: auth },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(call);
      const denied = await fetch(`${apiUrl}/2010-04-01/Accounts/${sid}/Calls/${call.sid}.json`);
      expect(denied.status).toBe(401);
      expect(await denied.json()).toMatchObject({ code: 20003, status: 401 });

      // The visualizer asks for a login, and `up` says which: the account it printed.
      await up.waitForLine(new RegExp(`^log in to it as ${sid} with the account's auth token \\(above\\)$`));
      expect((await fetch(`${apiUrl}/viz/api/calls`)).status).toBe(401);
      const login = await fetch(`${apiUrl}/viz/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user: sid, token }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      await expect
        .poll(async () => {
          const list = (await (await fetch(`${apiUrl}/viz/api/calls`, { headers: { cookie } })).json()) as {
            calls: { callSid: string }[];
          };
          return list.calls.map((c) => c.callSid);
        })
        .toContain(call.sid);

      // ie1's calls through the same api: a region named in the path, as a Host would name it, and the
      // RecordingUrl ie1 hands out reaches ie1's recording (it named us1's api before, 404).
      const app = await startTwilioApp(token ?? "", { "/recorded": () => ({ body: "" }) });
      try {
        const ie1 = `${apiUrl}/ie1/2010-04-01/Accounts/${sid}`;
        const made = await fetch(`${ie1}/Calls.json`, {
          method: "POST",
          headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            To: "+15557000001",
            From: call.to,
            // Real time (up's outbound calls): the callee answers in 5 s; 2 s is long enough to keep.
            Twiml: '<Response><Pause length="2"/></Response>',
            Record: "true",
            RecordingStatusCallback: `${app.url}/recorded`,
          }),
        });
        expect(made.status).toBe(201);
        const { sid: ieCall } = (await made.json()) as { sid: string };
        const recorded = await app.waitFor(
          (r) => r.path === "/recorded" && r.params.CallSid === ieCall,
          30_000,
        );
        expect(recorded.params.RecordingUrl).toMatch(
          new RegExp(`^${apiUrl}/ie1/2010-04-01/Accounts/${sid}/Recordings/RE`),
        );
        const media = await fetch(`${recorded.params.RecordingUrl}.wav`);
        expect(media.status).toBe(200);
        expect(media.headers.get("content-type")).toBe("audio/x-wav");
        const asIe1 = await fetch(`${ie1}/Calls/${ieCall}.json`, { headers: { authorization: auth } });
        expect(asIe1.status).toBe(200);
        const asUs1 = await fetch(`${apiUrl}/2010-04-01/Accounts/${sid}/Calls/${ieCall}.json`, {
          headers: { authorization: auth },
        });
        expect(asUs1.status).toBe(404);
      } finally {
        await app.close();
      }

      expect(await up.stop()).toBe(0);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  }, 60_000);

  it("exits 1 with a one-line reason when it cannot start", async () => {
    const r = await runCli(["up", "--nats", "nats://127.0.0.1:1", "--port", "0"], { NATS_URL: "" });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it("refuses a weak operator token without printing it", async () => {
    const r = await runCli(["up", "--nats", "nats://127.0.0.1:1", "--port", "0"], {
      SWITCHBOARD_OPERATOR_TOKEN: "hunter2",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/operator token .* must be 16-200 characters/);
    expect(r.stderr).not.toContain("hunter2");
  });
});
