// `switchboard call --callee … --script …`: the CLI scripts the parties a <Dial> rings.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { runCli } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const NUMBER = "+15551238000";
const FIRST = "+15559990011";
const SECOND = "sip:desk@example.com";

let engine: TestEngine;
let app: TwilioApp;

beforeAll(async () => {
  engine = await startTestEngine();
  app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/first", hangupOnStar: true }, FIRST);
      return { body: r.toString() };
    },
    "/first": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/second" }).sip(SECOND);
      return { body: r.toString() };
    },
    "/second": () => ({ body: new VoiceResponse().toString() }),
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

describe("switchboard call scripting a <Dial>", () => {
  it("takes callees from --callee and --script (the flag wins) and * presses from the script", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-call-"));
    const script = join(dir, "caller.json");
    await writeFile(
      script,
      JSON.stringify({
        starAfter: [6],
        callees: { [FIRST]: { outcome: "busy" }, [SECOND]: { outcome: "busy" } },
      }),
    );
    const placed = await runCli([
      "call",
      "--to",
      NUMBER,
      "--from",
      "+15557654321",
      "--callee",
      `${FIRST}=answer:2:60`,
      "--script",
      script,
      "--json",
      "--nats",
      engine.nats.url,
    ]);
    expect(placed.stderr).toBe("");
    expect(placed.code).toBe(0);
    const call = JSON.parse(placed.stdout) as CallResource;
    const first = app.requests.find((r) => r.path === "/first" && r.params.CallSid === call.sid);
    const second = app.requests.find((r) => r.path === "/second" && r.params.CallSid === call.sid);
    // --callee made FIRST answer (the file said busy); the script's * ended that bridge after 6 s.
    expect(first?.params).toMatchObject({ DialCallStatus: "completed", DialCallDuration: "6" });
    expect(second?.params).toMatchObject({ DialCallStatus: "busy", DialBridged: "false" });
  });

  it("refuses a malformed --callee before placing any call", async () => {
    const before = app.requests.length;
    const out = await runCli([
      "call",
      "--to",
      NUMBER,
      "--from",
      "+15557654321",
      "--callee",
      "nobody",
      "--nats",
      engine.nats.url,
    ]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/error 20422: callee "nobody"/);
    expect(app.requests.length).toBe(before);
  });
});
