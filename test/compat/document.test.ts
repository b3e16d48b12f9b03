// Whole-document rules as a Twilio app meets them: schema and attribute warnings are stored as the
// call's notifications and the call carries on; a document that cannot be read (12100, 12101, 12102)
// sends the call to the fallback URL with ErrorCode and ErrorUrl, or to the application-error message.
// Real nats-server, edge, worker and signature-checking app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPLICATION_ERROR_SAY } from "../../machines/call.machine.js";
import { encode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import { type Compat, keys, raw, STANDARD, sortedKeys, startCompat } from "./harness.js";

let compat: Compat;

beforeAll(async () => {
  compat = await startCompat(1_243_000);
}, 60_000);

afterAll(async () => {
  await compat?.[Symbol.asyncDispose]();
});

const xml = (body: string) => raw(() => ({ body }));

describe("warnings", () => {
  it("stores each schema and attribute warning as a notification of the call, which carries on", async () => {
    const body =
      `<?xml version="1.0" encoding="UTF-8"?><Response>` +
      `<say>lower case is no verb</say>` +
      `<Say voise="woman">One</Say>` +
      `<Gather timeout="1"><Gather/></Gather>` +
      `<Pause length="soon"/>` +
      `<Say voice="robot">Two</Say>` +
      `stray text` +
      `</Response>`;
    const s = await compat.scenario("warnings", { "/voice": xml(body) });
    const run = await s.call();
    expect(run.said).toEqual(["One", "Two"]);
    expect(run.placed.call).toMatchObject({ status: "completed", error_code: null });
    const notes = await run.notifications(6);
    expect(notes.map((n) => n.error_code)).toEqual(["12200", "12200", "13320", "13910", "13511", "12200"]);
    for (const n of notes) {
      expect(n).toMatchObject({
        call_sid: run.callSid,
        account_sid: compat.engine.accountSid,
        log: "1",
        request_url: s.url("/voice"),
        request_method: "POST",
        response_body: body,
      });
      expect(n.more_info).toBe(`https://www.twilio.com/docs/errors/${n.error_code}`);
    }
    // Each names the element and where it is in the document, as Twilio's do.
    const prefix = `<?xml version="1.0" encoding="UTF-8"?><Response>`.length;
    expect(notes[0]?.message_text).toMatch(new RegExp(`<say>.*\\(line 1, column ${prefix + 1}\\)$`));
    expect(notes[1]?.message_text).toContain('"voise"');
    expect(notes[5]?.message_text).toContain("text outside any verb");
  });

  it("records the warnings of TwiML that replaces a live call's (REST Twiml) too", async () => {
    const s = await compat.scenario("live-twiml", {
      "/voice": (r) => {
        r.pause({ length: 60 });
      },
    });
    let changed: Promise<unknown> | undefined;
    const run = await s.call(
      // Real time, so the 60 s Pause is still running when the change arrives; the change ends it.
      { timeScale: 1 },
      {
        onEvent: (event, callSid) => {
          if (event.kind !== "pause") return;
          const twiml = `<Response><Say voise="woman">Changed</Say><Hangup/></Response>`;
          changed = compat.engine.nc.request(subjects().callControl("us1", callSid), encode({ twiml }));
        },
      },
    );
    await changed;
    expect(run.said).toEqual(["Changed"]);
    const [note] = await run.notifications(1);
    expect(note).toMatchObject({ error_code: "12200", log: "1" });
    expect(note?.message_text).toContain('"voise"');
  });

  it("runs an empty <Response/> as an answered call that hangs up at once", async () => {
    const s = await compat.scenario("empty", { "/voice": () => {} });
    const run = await s.call();
    expect(run.events.map((e) => e.kind)).toEqual(["ringing", "answer", "hangup", "ended"]);
    expect(run.placed.call).toMatchObject({ status: "completed", duration: "0", error_code: null });
    expect(await compat.engine.notifications(run.callSid)).toEqual([]);
  });
});

describe("documents that cannot be read", () => {
  it("12100: requests the fallback URL with ErrorCode and ErrorUrl, and runs what it returns", async () => {
    const s = await compat.scenario(
      "not-xml",
      {
        "/voice": xml("Hello, this is not XML"),
        "/fallback": (r) => r.say("Fallback speaking"),
      },
      { fallback: "/fallback" },
    );
    const run = await s.call();
    expect(run.said).toEqual(["Fallback speaking"]);
    const fallback = await run.of("/fallback");
    expect(fallback).toMatchObject({ method: "POST", signatureValid: true });
    expect(keys(fallback.params)).toEqual(sortedKeys(STANDARD, ["ErrorCode", "ErrorUrl"]));
    // The call was not answered yet: the fallback is asked while it rings, as the voice URL was.
    expect(fallback.params).toMatchObject({
      ErrorCode: "12100",
      ErrorUrl: s.url("/voice"),
      CallStatus: "ringing",
    });
    expect(run.placed.call).toMatchObject({ status: "completed", error_code: 12100 });
    const [note] = await run.notifications(1);
    expect(note).toMatchObject({ error_code: "12100", log: "0" });
  });

  it("12102: a root other than <Response> with no fallback plays the application-error message", async () => {
    const s = await compat.scenario("bad-root", {
      "/voice": xml(`<?xml version="1.0"?><Reponse><Say>Typo in the root</Say></Reponse>`),
    });
    const run = await s.call();
    expect(run.said).toEqual([APPLICATION_ERROR_SAY.text]);
    expect(run.placed.call).toMatchObject({ status: "completed", error_code: 12102 });
    const [note] = await run.notifications(1);
    expect(note).toMatchObject({ error_code: "12102", log: "0" });
  });

  it("12101: an unknown <Response version> fails the document; a failing fallback adds its own error", async () => {
    const s = await compat.scenario(
      "bad-version",
      {
        "/voice": xml(`<Response version="2099-01-01"><Say>Never</Say></Response>`),
        "/fallback": raw(() => ({ status: 500, contentType: "text/plain", body: "down" })),
      },
      { fallback: "/fallback" },
    );
    const run = await s.call();
    expect(run.said).toEqual([APPLICATION_ERROR_SAY.text]);
    expect((await run.of("/fallback")).params).toMatchObject({ ErrorCode: "12101" });
    // The record keeps the last error: the fallback's.
    expect(run.placed.call).toMatchObject({ status: "completed", error_code: 11200 });
    const notes = await run.notifications(2);
    expect(notes.map((n) => [n.error_code, n.log])).toEqual([
      ["12101", "0"],
      ["11200", "0"],
    ]);
  });

  it("12100: whitespace before the XML declaration fails the document", async () => {
    const s = await compat.scenario("leading-space", {
      "/voice": xml(`\n<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi</Say></Response>`),
    });
    const run = await s.call();
    expect(run.said).toEqual([APPLICATION_ERROR_SAY.text]);
    expect(run.placed.call.error_code).toBe(12100);
  });

  it("reads a text/plain body that is not TwiML aloud, then hangs up", async () => {
    const s = await compat.scenario("plain-text", {
      "/voice": raw(() => ({ contentType: "text/plain", body: "Thanks for calling." })),
    });
    const run = await s.call();
    expect(run.said).toEqual(["Thanks for calling."]);
    expect(run.placed.call).toMatchObject({ status: "completed", error_code: null });
  });
});
