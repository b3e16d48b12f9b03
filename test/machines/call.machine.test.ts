// The call machine alone: its effects are provided as fakes, its timers run on a simulated clock,
// and nothing touches NATS or HTTP.

import { describe, expect, it } from "vitest";
import { createActor, fromPromise, type SnapshotFrom } from "xstate";
import {
  type AnnounceOutcome,
  APPLICATION_ERROR_SAY,
  type CallInput,
  callMachine,
  type EndInput,
  type FetchInput,
  type NumberSetup,
  type VerbInput,
} from "../../machines/call.machine.js";
import { CallClock } from "../../src/clock/call-clock.js";
import { sleep } from "../../src/clock/clock.js";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import type { Verb, VerbOutcome } from "../../src/twiml/verb-data.js";

const NUMBER: NumberSetup = {
  accountSid: `AC${"a".repeat(32)}`,
  phoneNumberSid: `PN${"b".repeat(32)}`,
  apiVersion: "2010-04-01",
  voiceUrl: "https://app.example/voice",
  voiceMethod: "POST",
  fallbackUrl: null,
  fallbackMethod: "POST",
  statusCallback: null,
};

const INPUT: CallInput = {
  facts: {
    callSid: `CA${"c".repeat(32)}`,
    to: "+15551230001",
    from: "+15557654321",
    region: "us1",
    edge: "ashburn",
    direction: "inbound",
  },
  arrivedAt: 1_000_000,
};

type Documents = Record<string, Verb[] | SwitchboardError>;

/** Runs one call with fake effects; returns what it did. */
async function run(
  documents: Documents,
  opts: {
    number?: Partial<NumberSetup> | SwitchboardError;
    /** How announcing the call comes out (an outbound call's callee), after `ringMs` of ringing. */
    announce?: AnnounceOutcome;
    ringMs?: number;
    hangupAt?: number;
    /** When the host sends an outbound call's TimeLimit (`call.timeLimit`). */
    timeLimitAt?: number;
    /** When the host sends a REST `Twiml` update (`control.twiml`) with these verbs. */
    twimlAt?: { at: number; verbs: Verb[] };
    maxCallMs?: number;
    watch?: (s: SnapshotFrom<typeof callMachine>) => void;
  } = {},
) {
  const clock = new CallClock(0, INPUT.arrivedAt);
  const fetched: FetchInput[] = [];
  const ran: string[] = [];
  const errors: number[] = [];
  let ended: EndInput | undefined;
  const verb = fromPromise<VerbOutcome, VerbInput>(async ({ input, signal }) => {
    const v = input.verb;
    ran.push(v.name === "Say" ? `Say:${v.text}` : v.name);
    switch (v.name) {
      case "Pause":
        await sleep(clock, v.length * 1000, signal);
        return { kind: "next" };
      case "Say":
        await sleep(clock, 1000, signal);
        return { kind: "next" };
      case "Dial": // rings for 5 s and bridges nobody (it answers nothing)
        await sleep(clock, 5000, signal);
        return { kind: "next" };
      case "Hangup":
        return { kind: "hangup" };
      case "Reject":
        return { kind: "reject", reason: v.reason };
      case "Redirect":
        return { kind: "fetch", url: v.url, method: v.method };
      default:
        return { kind: "next" };
    }
  });
  const machine = callMachine.provide({
    actors: {
      loadNumber: fromPromise(async () => {
        if (opts.number instanceof SwitchboardError) throw opts.number;
        return { ...NUMBER, ...opts.number };
      }),
      announceCall: fromPromise(async ({ signal }): Promise<AnnounceOutcome> => {
        await sleep(clock, opts.ringMs ?? 0, signal);
        return opts.announce ?? { kind: "ringing" };
      }),
      fetchTwiml: fromPromise(async ({ input }: { input: FetchInput }) => {
        fetched.push(input);
        const doc = documents[input.url];
        if (doc === undefined) throw new SwitchboardError(11200, `404 ${input.url}`);
        if (doc instanceof SwitchboardError) throw doc;
        return { documentUrl: input.url, verbs: doc };
      }),
      answerCall: fromPromise(async () => ({ at: clock.now() })),
      runVerb: verb,
      endCall: fromPromise(async ({ input }: { input: EndInput }) => {
        ended = input;
      }),
      retryDelay: fromPromise(async () => {}),
    },
    actions: { reportError: (_, params) => void errors.push(params.code) },
  });
  const actor = createActor(machine, { input: INPUT, clock });
  const states: string[] = [];
  actor.subscribe((s) => {
    const top = typeof s.value === "string" ? s.value : Object.keys(s.value)[0];
    if (top && states.at(-1) !== top) states.push(top);
    opts.watch?.(s);
  });
  const done = new Promise<void>((resolve) => actor.subscribe({ complete: resolve }));
  actor.start();
  // The host's part: the maximum call duration, on the call's clock from its arrival, until the end.
  const limit = clock.setTimeout(() => actor.send({ type: "call.limit" }), opts.maxCallMs ?? 4 * 3_600_000);
  void done.then(() => clock.clearTimeout(limit));
  if (opts.hangupAt !== undefined)
    clock.setTimeout(() => actor.send({ type: "channel.hangup" }), opts.hangupAt);
  if (opts.timeLimitAt !== undefined)
    clock.setTimeout(() => actor.send({ type: "call.timeLimit" }), opts.timeLimitAt);
  const { twimlAt } = opts;
  if (twimlAt)
    clock.setTimeout(() => actor.send({ type: "control.twiml", verbs: twimlAt.verbs }), twimlAt.at);
  await done;
  return { states, fetched, ran, errors, ended: ended as EndInput, final: actor.getSnapshot() };
}

const say = (text: string): Verb => ({ name: "Say", text, voice: "man", language: "en-US", loop: 1 });

describe("the call machine", () => {
  it("passes through every top-level state in order for a call that runs a document", async () => {
    const r = await run({ [NUMBER.voiceUrl]: [say("Hello"), { name: "Hangup" }] });
    expect(r.states).toEqual([
      "arriving",
      "routed",
      "fetching-webhook",
      "executing-twiml",
      "storing",
      "completed",
    ]);
    expect(r.final.status).toBe("done");
    expect(r.ended).toMatchObject({
      status: "completed",
      endedBy: "app",
      error: null,
      answeredAt: INPUT.arrivedAt,
    });
    expect(r.fetched[0]).toMatchObject({ url: NUMBER.voiceUrl, method: "POST", callStatus: "ringing" });
    expect(r.fetched[0]?.facts.accountSid).toBe(NUMBER.accountSid);
  });

  it("runs every verb in the one verb state, with the verb's name in the context while it runs", async () => {
    const seen: [unknown, unknown][] = [];
    const r = await run(
      { [NUMBER.voiceUrl]: [say("Hi"), { name: "Pause", length: 1 }, { name: "Hangup" }] },
      {
        watch: (s) => seen.push([s.value, s.context.verb]),
      },
    );
    const inVerb = seen.filter(([v]) => JSON.stringify(v) === '{"executing-twiml":"verb"}').map(([, n]) => n);
    expect([...new Set(inVerb)]).toEqual(["Say", "Pause", "Hangup"]);
    expect(r.final.context.verb).toBeNull();
    expect(Object.keys(callMachine.root.states["executing-twiml"]?.states ?? {})).toEqual([
      "answering",
      "verb",
    ]);
  });

  it("runs a REST Twiml update as a document of its own: answering first if need be, its verbs' steps its own", async () => {
    const seen: [string, number][] = [];
    const r = await run(
      { [NUMBER.voiceUrl]: [{ name: "Pause", length: 10 }, say("never")] },
      {
        twimlAt: { at: 2_000, verbs: [say("Updated"), { name: "Hangup" }] },
        watch: (s) => {
          if (s.context.verb) seen.push([s.context.verb, s.context.documents]);
        },
      },
    );
    expect(r.ran).toEqual(["Pause", "Say:Updated", "Hangup"]);
    // The first Pause held the answer off; the update's Say is answered first.
    expect(r.ended.answeredAt).toBe(INPUT.arrivedAt + 2_000);
    expect([...new Set(seen.map(([verb, doc]) => `${verb} ${doc}`))]).toEqual([
      "Pause 1",
      "Say 2",
      "Hangup 2",
    ]);
  });

  it("hangs up at the end of the document, as Twilio does", async () => {
    const r = await run({ [NUMBER.voiceUrl]: [say("Only this")] });
    expect(r.ran).toEqual(["Say:Only this"]);
    expect(r.ended.status).toBe("completed");
  });

  it("follows a Redirect back to fetching-webhook with the call in progress", async () => {
    const r = await run({
      [NUMBER.voiceUrl]: [{ name: "Redirect", url: "https://app.example/next", method: "GET" }, say("never")],
      "https://app.example/next": [say("Next")],
    });
    expect(r.fetched.map((f) => [f.url, f.method, f.callStatus])).toEqual([
      [NUMBER.voiceUrl, "POST", "ringing"],
      ["https://app.example/next", "GET", "in-progress"],
    ]);
    expect(r.ran).toEqual(["Redirect", "Say:Next"]);
  });

  it("delays the answer by a first Pause", async () => {
    const r = await run({ [NUMBER.voiceUrl]: [{ name: "Pause", length: 3 }, say("Hi")] });
    expect(r.ended.answeredAt).toBe(INPUT.arrivedAt + 3000);
  });

  it("answers after a first Pause whatever follows it: a Reject then hangs up, and a second Pause is heard", async () => {
    // Spec §1: only the first verb holds the answer off (Reject) or delays it (Pause).
    const rejected = await run({
      [NUMBER.voiceUrl]: [
        { name: "Pause", length: 3 },
        { name: "Reject", reason: "busy" },
      ],
    });
    expect(rejected.ended).toMatchObject({ status: "completed", answeredAt: INPUT.arrivedAt + 3000 });
    const paused = await run({
      [NUMBER.voiceUrl]: [{ name: "Pause", length: 2 }, { name: "Pause", length: 3 }, say("Hi")],
    });
    expect(paused.ended.answeredAt).toBe(INPUT.arrivedAt + 2000);
  });

  it("holds the answer for a first Dial answerOnBridge only: after a first Pause the call is answered before it", async () => {
    const bridging = { name: "Dial", answerOnBridge: true } as Verb;
    // Nobody bridges, so the call is answered by the Say after the Dial, once its 5 s of ringing end.
    const first = await run({ [NUMBER.voiceUrl]: [bridging, say("after")] });
    expect(first.ended.answeredAt).toBe(INPUT.arrivedAt + 5000);
    // Spec: answerOnBridge counts only on the first verb; the first Pause delays the answer, no more.
    const afterPause = await run({
      [NUMBER.voiceUrl]: [{ name: "Pause", length: 2 }, bridging, say("after")],
    });
    expect(afterPause.ran).toEqual(["Pause", "Dial", "Say:after"]);
    expect(afterPause.ended.answeredAt).toBe(INPUT.arrivedAt + 2000);
  });

  it("ends a first-verb Reject busy as busy and rejected as no-answer, never answered", async () => {
    const busy = await run({ [NUMBER.voiceUrl]: [{ name: "Reject", reason: "busy" }] });
    expect(busy.ended).toMatchObject({ status: "busy", rejectReason: "busy", answeredAt: null });
    const rejected = await run({ [NUMBER.voiceUrl]: [{ name: "Reject", reason: "rejected" }] });
    expect(rejected.ended).toMatchObject({ status: "no-answer", rejectReason: "rejected" });
  });

  it("requests the fallback URL with ErrorCode and ErrorUrl when the voice URL fails", async () => {
    const fallbackUrl = "https://backup.example/voice";
    const r = await run({ [fallbackUrl]: [say("Backup")] }, { number: { fallbackUrl } });
    expect(r.fetched[1]).toMatchObject({
      url: fallbackUrl,
      extraParams: { ErrorCode: "11200", ErrorUrl: NUMBER.voiceUrl },
    });
    expect(r.ran).toEqual(["Say:Backup"]);
    expect(r.errors).toEqual([11200]);
  });

  it("plays the application-error message and keeps the error when nothing can be fetched", async () => {
    const r = await run({ [NUMBER.voiceUrl]: new SwitchboardError(12100, "Document parse failure at 1:5") });
    expect(r.ran).toEqual([`Say:${APPLICATION_ERROR_SAY.text}`]);
    expect(r.ended).toMatchObject({ status: "completed", error: { code: 12100 } });
  });

  it("ends as failed with the code when the number has no config in the region", async () => {
    const r = await run({}, { number: new SwitchboardError(90004, "no config") });
    expect(r.states).toEqual(["arriving", "storing", "completed"]);
    expect(r.ended).toMatchObject({ status: "failed", error: { code: 90004 }, answeredAt: null });
  });

  it("stops the verb and stores the call when the caller hangs up", async () => {
    const r = await run(
      {
        [NUMBER.voiceUrl]: [{ name: "Pause", length: 1 }, say("a"), { name: "Pause", length: 60 }, say("b")],
      },
      { hangupAt: 5000 },
    );
    expect(r.ran).toEqual(["Pause", "Say:a", "Pause"]);
    expect(r.ended).toMatchObject({ status: "completed", endedBy: "caller" });
  });

  it("counts a hang-up before the answer as no-answer", async () => {
    const r = await run(
      { [NUMBER.voiceUrl]: [{ name: "Pause", length: 10 }, say("late")] },
      { hangupAt: 2000 },
    );
    expect(r.ended).toMatchObject({ status: "no-answer", endedBy: "caller", answeredAt: null });
  });

  it("ends a call that runs past the maximum duration with 32015", async () => {
    const doc = [say("Hi"), { name: "Pause", length: 60 } as Verb, say("never")];
    const r = await run({ [NUMBER.voiceUrl]: doc }, { maxCallMs: 10_000 });
    expect(r.ran).toEqual(["Say:Hi", "Pause"]);
    expect(r.ended).toMatchObject({ status: "completed", error: { code: 32015 } });
    expect(r.errors).toEqual([32015]);
  });

  it("ends a call at its TimeLimit completed, as a Hangup would, with no error", async () => {
    const doc = [say("Hi"), { name: "Pause", length: 60 } as Verb, say("never")];
    const r = await run({ [NUMBER.voiceUrl]: doc }, { timeLimitAt: 10_000 });
    expect(r.ran).toEqual(["Say:Hi", "Pause"]);
    expect(r.ended).toMatchObject({ status: "completed", endedBy: "app", error: null });
    expect(r.errors).toEqual([]);
  });

  describe("an outbound call (REST)", () => {
    it("is in progress once its callee answers: its first document is requested so, and nothing answers again", async () => {
      const at = INPUT.arrivedAt + 5_000;
      const r = await run(
        { [NUMBER.voiceUrl]: [say("Reminder")] },
        { announce: { kind: "answered", at }, ringMs: 5_000 },
      );
      expect(r.states).toEqual([
        "arriving",
        "routed",
        "fetching-webhook",
        "executing-twiml",
        "storing",
        "completed",
      ]);
      expect(r.fetched[0]).toMatchObject({ url: NUMBER.voiceUrl, callStatus: "in-progress" });
      expect(r.ran).toEqual(["Say:Reminder"]);
      expect(r.ended).toMatchObject({ status: "completed", answeredAt: at });
    });

    it.each(["busy", "no-answer", "failed"] as const)(
      "ends %s when its callee does not answer, requesting no document",
      async (status) => {
        const r = await run(
          { [NUMBER.voiceUrl]: [say("never")] },
          { announce: { kind: "unanswered", status }, ringMs: 3_000 },
        );
        expect(r.states).toEqual(["arriving", "routed", "storing", "completed"]);
        expect(r.fetched).toEqual([]);
        expect(r.ended).toMatchObject({ status, answeredAt: null, error: null });
      },
    );

    it("ends completed at the callee's hang-up when it answered and hung up before the call learned it (a resumed call)", async () => {
      const at = INPUT.arrivedAt + 2_000;
      const endedAt = INPUT.arrivedAt + 4_000;
      const r = await run(
        { [NUMBER.voiceUrl]: [say("never")] },
        { announce: { kind: "answered", at, endedAt }, ringMs: 9_000 },
      );
      expect(r.states).toEqual(["arriving", "routed", "storing", "completed"]);
      expect(r.fetched).toEqual([]);
      expect(r.ended).toMatchObject({ status: "completed", answeredAt: at, endedAt, endedBy: "caller" });
    });

    it("ends no-answer when the call is hung up while its callee rings", async () => {
      const clockAt = INPUT.arrivedAt + 1_000;
      const r = await run(
        { [NUMBER.voiceUrl]: [say("never")] },
        { announce: { kind: "answered", at: clockAt }, ringMs: 10_000, hangupAt: 1_000 },
      );
      expect(r.fetched).toEqual([]);
      expect(r.ended).toMatchObject({ status: "no-answer", answeredAt: null });
    });
  });
});
