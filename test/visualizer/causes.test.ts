// Why each step happened: the timeline names the cause of every state change (a key press, a REST
// redirect, a hang-up, a take-over after a crash), shows what a Gather heard and a Record kept on
// lines of their own, keeps a failed webhook's answer, and indents the TwiML it shows.
import { describe, expect, it } from "vitest";
import { callMachine } from "../../machines/call.machine.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import type { InspectEvent } from "../../src/protocol/inspect.js";
import type { HistoryRecord } from "../../src/visualizer/history.js";
import { prettyXml } from "../../src/visualizer/pretty-xml.js";
import { statechartOf } from "../../src/visualizer/statechart.js";
import { StepResolver } from "../../src/visualizer/steps.js";
import { buildCallView } from "../../src/visualizer/timeline.js";

const SID = `CA${"2".repeat(32)}`;
const APP = "http://app.test";
const GATHER = '<Response><Gather numDigits="1" action="/menu"><Say>Press 1</Say></Gather></Response>';
const RECORD = '<Response><Record action="/saved"/></Response>';
const PARK = '<Response><Pause length="600"/></Response>';

let seq = 0;
const inspect = (event: InspectEvent): HistoryRecord => {
  seq++;
  return { source: "inspect", seq, i: 0, ts: seq * 5, at: seq * 5, event };
};
const channel = (event: ChannelOut): HistoryRecord => {
  seq++;
  return { source: "channel", seq, i: 0, ts: seq * 5, at: seq * 5, event };
};
const state = (value: unknown, event: string, verb?: [string, number]) =>
  inspect({
    type: "state",
    value,
    status: "in-progress",
    event,
    verb: verb ? { name: verb[0], index: verb[1] } : null,
    documentUrl: `${APP}/voice`,
  });
const done = (s: string) => `xstate.done.actor.0.call.${s}`;
const request = (path: string, params: Record<string, string> = {}) =>
  inspect({
    type: "webhook.request",
    url: `${APP}${path}`,
    method: "POST",
    params: { CallSid: SID, ...params },
  });
const response = (path: string, body: string) =>
  inspect({
    type: "webhook.response",
    url: `${APP}${path}`,
    status: 200,
    contentType: "text/xml",
    durationMs: 2,
    body,
  });

const resolver = new StepResolver(statechartOf(callMachine));
const view = (records: HistoryRecord[]) =>
  buildCallView({ callSid: SID, region: "us1", records, call: null, channelCaptured: true }, resolver);
const texts = (records: HistoryRecord[]) => view(records).entries.map((e) => `${e.kind}: ${e.text}`);

const start = () => [
  state("arriving", "xstate.init"),
  state("routed", done("arriving")),
  request("/voice"),
  state("fetching-webhook", done("routed")),
];

describe("the cause of each step", () => {
  it("names the key pressed to a Gather, shows the digits on a line of their own, and indents the TwiML", () => {
    const v = view([
      ...start(),
      response("/voice", GATHER),
      state({ "executing-twiml": "verb" }, done("fetching-webhook"), ["Gather", 0]),
      request("/menu", { Digits: "1" }),
      state("fetching-webhook", done("executing-twiml.verb")),
      response("/menu", PARK),
    ]);
    expect(v.steps.map((s) => s.cause)).toEqual([
      "call offered",
      "number found",
      "call announced",
      "TwiML received",
      "key press 1",
    ]);
    const lines = v.entries.map((e) => `${e.kind}: ${e.text}`);
    expect(lines).toContain("state: fetching-webhook  [in-progress]  ← key press 1");
    expect(lines.indexOf("input: digits 1")).toBe(lines.findIndex((l) => l.includes("/menu")) - 1);
    const gather = v.entries.find((e) => e.kind === "state" && e.detail.verb !== null);
    expect(gather?.detail.document).toBe(
      [
        "<Response>",
        '  <Gather numDigits="1" action="/menu">',
        "    <Say>Press 1</Say>",
        "  </Gather>",
        "</Response>",
      ].join("\n"),
    );
  });

  it("shows speech with its confidence, and a Record's result", () => {
    expect(
      texts([
        ...start(),
        response("/voice", GATHER),
        state({ "executing-twiml": "verb" }, done("fetching-webhook"), ["Gather", 0]),
        request("/menu", { SpeechResult: "sales please", Confidence: "0.92" }),
        state("fetching-webhook", done("executing-twiml.verb")),
      ]),
    ).toContain('input: speech "sales please" (confidence 0.92)');
    const recorded = texts([
      ...start(),
      response("/voice", RECORD),
      state({ "executing-twiml": "verb" }, done("fetching-webhook"), ["Record", 0]),
      request("/saved", {
        RecordingUrl: `${APP}/r.wav`,
        RecordingSid: "RE1",
        RecordingDuration: "4",
        Digits: "#",
      }),
      state("fetching-webhook", done("executing-twiml.verb")),
    ]);
    expect(recorded).toContain(`input: recording RE1 4 s, ended by key #  ${APP}/r.wav`);
    expect(recorded).toContain(
      "state: fetching-webhook  [in-progress]  ← recording finished, ended by key #",
    );
  });

  it("names a REST redirect, a hang-up, and a take-over by another worker", () => {
    const lines = texts([
      ...start(),
      response("/voice", PARK),
      state({ "executing-twiml": "verb" }, done("fetching-webhook"), ["Pause", 0]),
      request("/moved"),
      state("fetching-webhook", "control.redirect"),
      response("/moved", PARK),
      state({ "executing-twiml": "verb" }, done("fetching-webhook"), ["Pause", 0]),
      state({ "executing-twiml": "verb" }, "xstate.init", ["Pause", 0]),
      inspect({ type: "resumed", worker: "w2", from: "w1" }),
      channel({ kind: "hangup" }),
      state({ storing: "writing" }, "channel.hangup"),
    ]);
    expect(lines).toContain("state: fetching-webhook  [in-progress]  ← REST redirect (Url)");
    expect(lines).toContain(
      "state: executing-twiml.verb  [in-progress]  #0 Pause 600 s  ← take-over by worker w2",
    );
    expect(lines).toContain("worker: resumed on worker w2 (taken over from w1)");
    expect(lines.at(-1)).toBe("state: storing.writing  [in-progress]  ← caller hung up");
  });

  it("keeps a failed webhook's status, headers and body instead of 'no response'", () => {
    const v = view([
      state("arriving", "xstate.init"),
      state("routed", done("arriving")),
      request("/voice"),
      state("fetching-webhook", done("routed")),
      inspect({
        type: "webhook.error",
        url: `${APP}/voice`,
        code: 11200,
        message: "answered HTTP 500",
        httpStatus: 500,
        durationMs: 4,
        response: {
          status: 500,
          headers: { "x-app": "survey" },
          contentType: "text/plain",
          body: "TypeError",
        },
      }),
    ]);
    const webhook = v.entries.find((e) => e.kind === "webhook");
    expect(webhook?.text).toBe(`POST ${APP}/voice  CallStatus=  -> 500 (11200)`);
    expect(webhook?.detail.response).toMatchObject({
      status: 500,
      body: "TypeError",
      headers: { "x-app": "survey" },
    });
    expect(webhook?.detail.error).toEqual({ code: 11200, message: "answered HTTP 500" });
  });
});

describe("prettyXml", () => {
  it("indents nested elements, keeps text-only elements on one line, and leaves non-XML alone", () => {
    expect(
      prettyXml('<?xml version="1.0"?><Response><Say voice="woman">Hi &amp; bye</Say><Hangup/></Response>'),
    ).toBe(
      [
        '<?xml version="1.0"?>',
        "<Response>",
        '  <Say voice="woman">Hi &amp; bye</Say>',
        "  <Hangup/>",
        "</Response>",
      ].join("\n"),
    );
    expect(prettyXml("not xml")).toBe("not xml");
  });
});
