// <Hangup>, <Reject> and <Redirect>, and the parameters every request about a call carries, as a
// Twilio app sees them: what the channel did, the stored Call resource, the status callback, and
// each request's exact parameters. Real nats-server, edge, worker and signature-checking app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPLICATION_ERROR_SAY } from "../../machines/call.machine.js";
import { MAX_DOCUMENTS } from "../../src/region/effects/fetch-twiml.js";
import { type Compat, keys, RFC2822, STANDARD, STATUS_CALLBACK, sortedKeys, startCompat } from "./harness.js";

let compat: Compat;

beforeAll(async () => {
  compat = await startCompat(1_242_000);
}, 60_000);

afterAll(async () => {
  await compat?.[Symbol.asyncDispose]();
});

const kinds = (events: { kind: string }[]) => events.map((e) => e.kind);

describe("<Hangup>", () => {
  it("as the first verb still answers the call, which ends completed with a duration of 0", async () => {
    const s = await compat.scenario("hangup-first", {
      "/voice": (r) => {
        r.hangup();
        r.say("Not reached");
      },
    });
    const run = await s.call();
    expect(kinds(run.events)).toEqual(["ringing", "answer", "hangup", "ended"]);
    const call = run.placed.call;
    expect(call).toMatchObject({
      sid: run.callSid,
      account_sid: compat.engine.accountSid,
      to: s.number,
      from: "+15557654321",
      status: "completed",
      direction: "inbound",
      api_version: "2010-04-01",
      duration: "0",
      answered_by: null,
      parent_call_sid: null,
      error_code: null,
      error_message: null,
    });
    expect(call.phone_number_sid).toMatch(/^PN[0-9a-f]{32}$/);
    expect(call.start_time).toMatch(RFC2822);
    expect(call.end_time).toMatch(RFC2822);
    const status = await run.of("/status");
    expect(keys(status.params)).toEqual([...STATUS_CALLBACK].sort());
    expect(status.params).toMatchObject({
      CallStatus: "completed",
      CallDuration: "0",
      CallbackSource: "call-progress-events",
      SequenceNumber: "0",
    });
    expect(status.params.Timestamp).toMatch(RFC2822);
  });

  it("ends the call mid-document: verbs after it never run", async () => {
    const s = await compat.scenario("hangup-mid", {
      "/voice": (r) => {
        r.say("Goodbye");
        r.hangup();
        r.redirect("/hangup-mid/never");
      },
      "/never": (r) => r.say("Not reached"),
    });
    const run = await s.call();
    expect(run.said).toEqual(["Goodbye"]);
    expect(run.placed.call.status).toBe("completed");
    await run.of("/status");
    expect(run.requests().map((r) => r.path)).toEqual(["/hangup-mid/voice", "/hangup-mid/status"]);
  });
});

describe("<Reject>", () => {
  it('reason="busy" as the first verb leaves the call unanswered, ending busy', async () => {
    const s = await compat.scenario("reject-busy", {
      "/voice": (r) => {
        r.reject({ reason: "busy" });
        r.say("Not reached");
      },
    });
    const run = await s.call();
    expect(run.events).toEqual([
      { kind: "ringing" },
      { kind: "reject", reason: "busy" },
      { kind: "ended", status: "busy", region: "us1" },
    ]);
    // Twilio leaves duration empty for busy and unanswered calls.
    expect(run.placed.call).toMatchObject({ status: "busy", duration: null, error_code: null });
    const status = await run.of("/status");
    expect(status.params).toMatchObject({ CallStatus: "busy", CallDuration: "0" });
  });

  it("with the default reason (rejected) ends no-answer, as Twilio records rejected calls", async () => {
    const s = await compat.scenario("reject-default", {
      "/voice": (r) => {
        r.reject();
      },
    });
    const run = await s.call();
    expect(run.events).toEqual([
      { kind: "ringing" },
      { kind: "reject", reason: "rejected" },
      { kind: "ended", status: "no-answer", region: "us1" },
    ]);
    expect(run.placed.call).toMatchObject({ status: "no-answer", duration: null });
    expect((await run.of("/status")).params.CallStatus).toBe("no-answer");
  });

  it("after the call was answered only hangs it up: the call ends completed", async () => {
    const s = await compat.scenario("reject-late", {
      "/voice": (r) => {
        r.say("Hello");
        r.reject({ reason: "busy" });
        r.say("Not reached");
      },
    });
    const run = await s.call();
    expect(kinds(run.events)).toEqual(["ringing", "answer", "say", "hangup", "ended"]);
    expect(run.placed.call).toMatchObject({ status: "completed", duration: "0" });
  });

  it('warns 13810 about an unknown reason and rejects with "rejected"', async () => {
    const s = await compat.scenario("reject-bad-reason", {
      "/voice": (r) => {
        r.reject({ reason: "declined" as "busy" });
      },
    });
    const run = await s.call();
    expect(run.placed.call.status).toBe("no-answer");
    const [note] = await run.notifications(1);
    expect(note).toMatchObject({ error_code: "13810", log: "1", call_sid: run.callSid });
  });
});

describe("<Redirect>", () => {
  it("requests a relative URL, resolved against the document, with GET and the call's parameters", async () => {
    const s = await compat.scenario("redirect-get", {
      "/voice": (r) => {
        r.say("Transferring");
        r.redirect({ method: "GET" }, "next?step=2");
        r.say("Not reached");
      },
      "/next": (r) => r.say("Step two"),
    });
    const run = await s.call();
    expect(run.said).toEqual(["Transferring", "Step two"]);
    const next = await run.of("/next");
    expect(next).toMatchObject({ method: "GET", signatureValid: true });
    expect(keys(next.params)).toEqual(sortedKeys(STANDARD, ["step"]));
    expect(next.params).toMatchObject({ step: "2", CallStatus: "in-progress" });
  });

  it("POSTs by default, and the call follows redirect after redirect", async () => {
    const s = await compat.scenario("redirect-chain", {
      "/voice": (r) => r.redirect("/redirect-chain/a"),
      "/a": (r) => r.redirect("b"),
      "/b": (r) => r.say("Arrived"),
    });
    const run = await s.call();
    expect(run.said).toEqual(["Arrived"]);
    await run.of("/status");
    expect(run.requests().map((r) => [r.method, r.path, r.params.CallStatus])).toEqual([
      ["POST", "/redirect-chain/voice", "ringing"],
      ["POST", "/redirect-chain/a", "in-progress"],
      ["POST", "/redirect-chain/b", "in-progress"],
      ["POST", "/redirect-chain/status", "completed"],
    ]);
    for (const r of run.requests().slice(0, 3)) expect(keys(r.params)).toEqual(STANDARD);
  });

  it(`ends a Redirect loop after ${MAX_DOCUMENTS} documents with 90006 and the application-error message`, async () => {
    const s = await compat.scenario("redirect-loop", {
      "/voice": (r) => r.redirect("/redirect-loop/voice"),
    });
    const run = await s.call();
    expect(run.requests().filter((r) => r.path === "/redirect-loop/voice")).toHaveLength(MAX_DOCUMENTS);
    expect(run.said).toEqual([APPLICATION_ERROR_SAY.text]);
    expect(run.placed.call).toMatchObject({ status: "completed", error_code: 90006 });
    const notes = await run.notifications(1);
    expect(notes.map((n) => [n.error_code, n.log])).toEqual([["90006", "0"]]);
  }, 30_000);
});

describe("the parameters of every request", () => {
  const GEO = {
    FromCity: "BROOKLYN",
    FromState: "NY",
    FromZip: "11201",
    FromCountry: "US",
    ToCity: "SAN FRANCISCO",
    ToState: "CA",
    ToZip: "94105",
    ToCountry: "US",
  };
  const LEGACY = ["CallerCity", "CallerState", "CallerZip", "CallerCountry"].concat(
    "CalledCity CalledState CalledZip CalledCountry".split(" "),
  );

  it("carry the call's identity, its status as it goes, and the offer's geographic parameters", async () => {
    const s = await compat.scenario("params-geo", {
      "/voice": (r) => r.redirect("/params-geo/next"),
      "/next": (r) => r.hangup(),
    });
    const run = await s.call({}, { geo: GEO, from: "+442071234567" });
    const voice = await run.of("/voice");
    const next = await run.of("/next");
    const status = await run.of("/status");
    const geoKeys = [...Object.keys(GEO), ...LEGACY];
    expect(keys(voice.params)).toEqual(sortedKeys(STANDARD, geoKeys));
    expect(keys(next.params)).toEqual(sortedKeys(STANDARD, geoKeys));
    expect(keys(status.params)).toEqual(sortedKeys(STATUS_CALLBACK, geoKeys));
    const identity = {
      CallSid: run.callSid,
      AccountSid: compat.engine.accountSid,
      From: "+442071234567",
      Caller: "+442071234567",
      To: s.number,
      Called: s.number,
      Direction: "inbound",
      ApiVersion: "2010-04-01",
      ...GEO,
      CallerCity: "BROOKLYN",
      CallerState: "NY",
      CallerZip: "11201",
      CallerCountry: "US",
      CalledCity: "SAN FRANCISCO",
      CalledState: "CA",
      CalledZip: "94105",
      CalledCountry: "US",
    };
    expect(voice.params).toEqual({ ...identity, CallStatus: "ringing" });
    expect(next.params).toEqual({ ...identity, CallStatus: "in-progress" });
    expect(status.params).toMatchObject({ ...identity, CallStatus: "completed" });
    for (const r of [voice, next, status]) {
      expect(r.signatureValid).toBe(true);
      expect(r.headers["x-home-region"]).toBe("us1");
    }
  });

  it("name a withheld caller as the offer gave it", async () => {
    const s = await compat.scenario("params-anonymous", { "/voice": (r) => r.hangup() });
    const run = await s.call({}, { from: "anonymous" });
    const voice = await run.of("/voice");
    expect(keys(voice.params)).toEqual(STANDARD);
    expect(voice.params).toMatchObject({ From: "anonymous", Caller: "anonymous" });
    expect(run.placed.call.from).toBe("anonymous");
  });
});
