// A call's history as the worker stores it (commands a state's entry sends come just before that
// state's event), turned into steps and a timeline; secrets scrubbed; exported for Stately.
import { describe, expect, it } from "vitest";
import { callMachine } from "../../machines/call.machine.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import type { InspectEvent } from "../../src/protocol/inspect.js";
import { formatTimeline } from "../../src/visualizer/format.js";
import type { CallHistory, HistoryRecord } from "../../src/visualizer/history.js";
import { REDACTED, sanitize } from "../../src/visualizer/sanitize.js";
import { statechartOf } from "../../src/visualizer/statechart.js";
import { machineDefinition, toStatelyMessages } from "../../src/visualizer/stately.js";
import { StepResolver } from "../../src/visualizer/steps.js";
import { buildCallView } from "../../src/visualizer/timeline.js";

const SID = `CA${"1".repeat(32)}`;
const APP = "http://app.test";
const VOICE = '<Response><Say voice="woman">Hi</Say><Pause length="2"/><Redirect>/menu</Redirect></Response>';
const MENU = "<Response><Say>Bye</Say><Hangup/></Response>";

let at = 1_000;
let seq = 0;
const state = (value: unknown, status: string, event: string, verb?: [string, number], doc?: string) =>
  inspect({
    type: "state",
    value,
    status,
    event,
    verb: verb ? { name: verb[0], index: verb[1] } : null,
    documentUrl: doc ?? null,
  });
// The server stores each record 2 ms after the worker sent it; `at` is the worker's time.
const inspect = (event: InspectEvent): HistoryRecord => {
  at += 5;
  return { source: "inspect", seq: ++seq, i: 0, ts: at + 2, at, event };
};
const channel = (event: ChannelOut): HistoryRecord => {
  at += 5;
  return { source: "channel", seq: ++seq, i: 0, ts: at + 2, at, event };
};
const done = (state: string) => `xstate.done.actor.0.call.${state}`;
const exec = (verb: string) => ({ "executing-twiml": verb });
const request = (path: string, status: string) =>
  inspect({
    type: "webhook.request",
    url: `${APP}${path}`,
    method: "POST",
    params: { CallSid: SID, From: "+15557654321", To: "+15551230001", CallStatus: status },
  });
const response = (path: string, body: string) =>
  inspect({
    type: "webhook.response",
    url: `${APP}${path}`,
    status: 200,
    contentType: "text/xml",
    durationMs: 3,
    body,
  });

const records: HistoryRecord[] = [
  state("arriving", "queued", "xstate.init"),
  channel({ kind: "ringing" }),
  state("routed", "ringing", done("arriving")),
  request("/voice", "ringing"),
  state("fetching-webhook", "ringing", done("routed")),
  response("/voice", VOICE),
  channel({ kind: "answer" }),
  state(exec("answering"), "ringing", done("fetching-webhook"), ["Say", 0], `${APP}/voice`),
  channel({ kind: "say", text: "Hi", voice: "woman", language: "en-US" }),
  state(exec("verb"), "in-progress", done("executing-twiml.answering"), ["Say", 0], `${APP}/voice`),
  channel({ kind: "pause", length: 2 }),
  state(exec("verb"), "in-progress", done("executing-twiml.verb"), ["Pause", 1], `${APP}/voice`),
  state(exec("verb"), "in-progress", done("executing-twiml.verb"), ["Redirect", 2], `${APP}/voice`),
  request("/menu", "in-progress"),
  state("fetching-webhook", "in-progress", done("executing-twiml.verb"), undefined, `${APP}/voice`),
  response("/menu", MENU),
  inspect({ type: "notification", level: "warning", code: 13322, message: "an attribute was ignored" }),
  channel({ kind: "say", text: "Bye", voice: "man", language: "en-US" }),
  state(exec("verb"), "in-progress", done("fetching-webhook"), ["Say", 0], `${APP}/menu`),
  state(exec("verb"), "in-progress", done("executing-twiml.verb"), ["Hangup", 1], `${APP}/menu`),
  channel({ kind: "hangup" }),
  state({ storing: "writing" }, "completed", done("executing-twiml.verb"), undefined, `${APP}/menu`),
  channel({ kind: "ended", status: "completed", region: "us1" }),
  state("completed", "completed", done("storing.writing"), undefined, `${APP}/menu`),
];

const history = (upTo = records.length): CallHistory => ({
  callSid: SID,
  region: "us1",
  records: records.slice(0, upTo),
  call: null,
  channelCaptured: true,
});
const resolver = new StepResolver(statechartOf(callMachine));

describe("a call's timeline", () => {
  const view = buildCallView(history(), resolver);

  it("has one step per reported state, with the verb read from the TwiML that was run", () => {
    expect(view.steps.map((s) => s.label)).toEqual([
      "arriving",
      "routed",
      "fetching-webhook",
      "executing-twiml.answering",
      "executing-twiml.verb(Say)",
      "executing-twiml.verb(Pause)",
      "executing-twiml.verb(Redirect)",
      "fetching-webhook",
      "executing-twiml.verb(Say)",
      "executing-twiml.verb(Hangup)",
      "storing.writing",
      "completed",
    ]);
    expect(view.steps[5]?.verb).toMatchObject({
      name: "Pause",
      index: 1,
      verb: { name: "Pause", length: 2 },
    });
    expect(view.steps[8]?.verb?.verb).toMatchObject({ name: "Say", text: "Bye" });
    expect(view.steps[2]?.durationMs).toBe(15);
    expect(view.live).toBe(false);
  });

  it("puts each command in the step whose entry sent it, and pairs requests with responses", () => {
    const inStep = (kind: string, step: number) =>
      view.entries.filter((e) => e.kind === kind && e.step === step).map((e) => e.text);
    expect(inStep("webhook", 2)).toEqual([`POST ${APP}/voice  CallStatus=ringing  -> 200 text/xml`]);
    expect(inStep("webhook", 7)).toEqual([`POST ${APP}/menu  CallStatus=in-progress  -> 200 text/xml`]);
    expect(inStep("channel", 1)).toEqual(["ringing"]);
    expect(inStep("channel", 4)).toEqual(['say "Hi" (woman, en-US)']);
    expect(inStep("channel", 5)).toEqual(["pause 2 s"]);
    expect(inStep("warning", 7)).toEqual(["13322 an attribute was ignored"]);
    const webhook = view.entries.find((e) => e.kind === "webhook");
    expect(webhook?.detail.response).toMatchObject({ status: 200, body: VOICE });
    expect(webhook?.durationMs).toBe(3);
  });

  it("is live while the call has not reached completed", () => {
    const running = buildCallView(history(12), resolver);
    expect(running.live).toBe(true);
    expect(running.steps.at(-1)?.label).toBe("executing-twiml.verb(Pause)");
    expect(running.steps.at(-1)?.durationMs).toBeNull();
  });

  it("prints as text for `switchboard trace`", () => {
    const lines = formatTimeline({ ...view, edge: "ashburn" });
    expect(lines[0]).toBe(`call ${SID} in us1 via ashburn: +15557654321 -> +15551230001, completed`);
    expect(lines[1]).toBe("   0.000  state    arriving  [queued]  ← call offered  (5.0 ms)");
    expect(lines.some((l) => /webhook {2}POST http:\/\/app\.test\/menu/.test(l))).toBe(true);
  });

  it("exports @statelyai/inspect messages: the actor with its definition, then an event and a snapshot per step", () => {
    const messages = toStatelyMessages(view, callMachine);
    expect(messages[0]).toMatchObject({ type: "@xstate.actor", name: "call", sessionId: SID, rootId: SID });
    expect(JSON.parse(machineDefinition(callMachine))).toMatchObject({ id: "call", initial: "arriving" });
    expect(messages).toHaveLength(1 + 2 * view.steps.length);
    expect(messages[2]).toMatchObject({
      type: "@xstate.snapshot",
      event: { type: "xstate.init" },
      snapshot: { status: "active", value: "arriving" },
    });
    expect(messages.at(-1)).toMatchObject({ snapshot: { status: "done", value: "completed" } });
    expect(messages.every((m) => typeof m.createdAt === "string" && m._version)).toBe(true);
  });
});

describe("sanitising what the visualizer serves", () => {
  it("redacts secret-looking fields and URL passwords, and keeps the rest", () => {
    const event = {
      type: "webhook.request",
      url: "https://user:hunter2@app.test/voice?x=1",
      params: { CallSid: SID, AuthToken: "abc", "X-Twilio-Signature": "sig" },
      headers: { Authorization: "Basic xyz", Accept: "*/*" },
    };
    expect(sanitize(event)).toEqual({
      type: "webhook.request",
      url: `https://user:${REDACTED}@app.test/voice?x=1`,
      params: { CallSid: SID, AuthToken: REDACTED, "X-Twilio-Signature": REDACTED },
      headers: { Authorization: REDACTED, Accept: "*/*" },
    });
  });
});
