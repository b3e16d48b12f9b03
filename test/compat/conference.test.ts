// <Dial><Conference> through its noun (the Dial verb lives on another branch), with the region's real
// conference port over a real nats-server: participants on separate "workers" (each its own port),
// the waitUrl requested signed from a Twilio-style app, status callbacks in order with Twilio's
// parameters, and the Conference and Participant resources checked against Twilio's description.
import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buckets, subjects } from "../../src/protocol/subjects.js";
import { conferencePort } from "../../src/region/rooms/conferences.js";
import { ConferenceStore } from "../../src/store/conference-store.js";
import { CallHandedOver } from "../../src/twiml/abort-reasons.js";
import { documentFromResponse } from "../../src/twiml/from-response.js";
import type { VerbCallbackRequest, VerbContext } from "../../src/twiml/verb-context.js";
import { conferenceNoun } from "../../src/twiml/verbs/dial/conference.js";
import type { ConferenceNoun } from "../../src/twiml/verbs/dial/data.js";
import type { DialResult } from "../../src/twiml/verbs/dial/noun.js";
import { WebhookClient } from "../../src/webhook/client.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { DIAL_DEFAULTS, type FakeChannel, fakeContext } from "../twiml/fakes.js";
import { type CompatStack, startCompatStack } from "./stack.js";

let stack: CompatStack;
let n = 0;

beforeAll(async () => {
  stack = await startCompatStack({
    "/conf-wait": () => ({ body: new VoiceResponse().say("waiting for the moderator").toString() }),
    "/conf-events": () => ({ status: 204, body: "" }),
  });
});

const web = new WebhookClient();
afterAll(async () => {
  await web.close();
  await stack?.[Symbol.asyncDispose]();
});

const options = DIAL_DEFAULTS;

interface Participant {
  callSid: string;
  ctx: VerbContext;
  channel: FakeChannel;
  callbacks: VerbCallbackRequest[];
  /** Resolves once `count` callbacks were queued by this participant's call. */
  callbacksQueued(count: number): Promise<VerbCallbackRequest[]>;
  /** The noun's dial, running; `hangUp` aborts it as the caller's hang-up does. */
  dial(noun: Partial<ConferenceNoun>): Promise<DialResult>;
  hangUp(reason?: Error): void;
}

/** A call on its own "worker": its own conference port, its own requests to the app. */
async function participant(callSid = `CA${(++n).toString(16).padStart(32, "0")}`): Promise<Participant> {
  const { engine } = stack;
  const kv = await new Kvm(engine.nc).open(buckets.conferences("us1"));
  const store = new ConferenceStore(kv, engine.nc, subjects(), "us1");
  const { ctx: base, channel } = fakeContext();
  const identity = { accountSid: engine.accountSid, callSid };
  const callbacks: VerbCallbackRequest[] = [];
  const waiters = new Set<() => void>();
  const hangup = new AbortController();
  const ctx: VerbContext = {
    ...base,
    call: { ...base.call, ...identity },
    callback: async (request) => {
      callbacks.push(request);
      for (const w of waiters) w();
    },
    conferences: conferencePort(
      store,
      engine.nc,
      { holding: (work) => work(), pacing: (work) => work() },
      identity,
    ),
    // The real signed request: the app rejects a bad signature with 403.
    fetchTwiml: async (url, method, params, signal) => {
      const res = await web.request({
        url,
        method,
        params: { CallSid: callSid, AccountSid: engine.accountSid, CallStatus: "in-progress", ...params },
        authToken: engine.authToken,
        signal,
      });
      return { ...documentFromResponse(res), documentUrl: res.url };
    },
  };
  return {
    callSid,
    ctx,
    channel,
    callbacks,
    callbacksQueued: (count) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${callbacks.length} of ${count} callbacks`)),
          10_000,
        );
        const check = () => {
          if (callbacks.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(callbacks.slice(0, count));
        };
        waiters.add(check);
        check();
      }),
    dial: (noun) =>
      conferenceNoun.dial(ctx, { ...defaults, ...noun } as ConferenceNoun, options, hangup.signal),
    hangUp: (reason = new Error("the caller hung up")) => hangup.abort(reason),
  };
}

const defaults: ConferenceNoun = {
  noun: "Conference",
  name: "room",
  muted: false,
  beep: "true",
  startConferenceOnEnter: true,
  endConferenceOnExit: false,
  waitUrl: "",
  waitMethod: "POST",
  maxParticipants: 250,
  record: "do-not-record",
  trim: "trim-silence",
  statusCallbackMethod: "POST",
  statusCallbackEvents: [],
  jitterBufferSize: "large",
};

/** Resolves with the named conference once `done` accepts it (REST, checked against Twilio's schema). */
async function conferenceNamed(
  name: string,
  done: (c: Record<string, unknown> | undefined) => boolean,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  const sub = stack.engine.nc.subscribe("sb.region.us1.conference.*.events");
  const changes = sub[Symbol.asyncIterator]();
  // One read of the iterator at a time: a wait that timed out keeps its read for the next turn.
  let change: Promise<unknown> | undefined;
  try {
    for (;;) {
      const list = await stack.rest(
        "GET",
        `${stack.account}/Conferences.json?FriendlyName=${encodeURIComponent(name)}`,
      );
      const found = (list.body.conferences as Record<string, unknown>[])[0];
      if (done(found)) return found as Record<string, unknown>;
      if (Date.now() > deadline) throw new Error(`conference ${name}: ${JSON.stringify(found)}`);
      // The next change of any conference (its writer announces it after storing it).
      change ??= changes.next().then(() => {
        change = undefined;
      });
      await Promise.race([change, new Promise((r) => setTimeout(r, 500))]);
    }
  } finally {
    sub.unsubscribe();
  }
}

const callbackUrl = "https://app.example/conference-events";

describe("<Dial><Conference>", () => {
  it("puts two calls in one conference and reports each change, in order, with Twilio's parameters", async () => {
    const a = await participant();
    const b = await participant();
    const events = {
      statusCallback: callbackUrl,
      statusCallbackEvents: ["conference-start", "conference-end", "participant-join", "participant-leave"],
    };
    const aDial = a.dial({ name: "standup", ...events });
    // Alone, A waits (Twilio's lifecycle): the conference starts when B joins.
    await a.callbacksQueued(1);
    await conferenceNamed("standup", (c) => c?.status === "init");
    const bDial = b.dial({ name: "standup", muted: true });
    await b.callbacksQueued(2);

    const live = await conferenceNamed("standup", (c) => c?.status === "in-progress");
    const sid = String(live.sid);
    expect(live).toMatchObject({
      friendly_name: "standup",
      account_sid: stack.engine.accountSid,
      region: "us1",
      uri: `${stack.account}/Conferences/${sid}.json`,
    });
    const participants = await stack.rest("GET", `${stack.account}/Conferences/${sid}/Participants.json`);
    expect(participants.body.participants).toEqual([
      expect.objectContaining({
        call_sid: a.callSid,
        muted: false,
        status: "connected",
        conference_sid: sid,
      }),
      expect.objectContaining({ call_sid: b.callSid, muted: true, start_conference_on_enter: true }),
    ]);
    // Twilio's participant filters, and its conference date filters.
    const muted = async (value: string) =>
      (
        (await stack.rest("GET", `${stack.account}/Conferences/${sid}/Participants.json?Muted=${value}`)).body
          .participants as { call_sid: string }[]
      ).map((p) => p.call_sid);
    expect(await muted("true")).toEqual([b.callSid]);
    expect(await muted("false")).toEqual([a.callSid]);
    const today = new Date().toISOString().slice(0, 10);
    const named = async (dates: string) =>
      (
        (await stack.rest("GET", `${stack.account}/Conferences.json?FriendlyName=standup&${dates}`)).body
          .conferences as { sid: string }[]
      ).map((c) => c.sid);
    expect(await named(`DateCreated=${today}`)).toEqual([sid]);
    expect(await named("DateCreated=2020-01-01")).toEqual([]);
    expect(await named("DateUpdated%3E=2020-01-01")).toEqual([sid]);
    expect(await named("DateCreated%3C=2020-01-01")).toEqual([]);
    const one = await stack.rest("GET", `${stack.account}/Conferences/${sid}/Participants/${b.callSid}.json`);
    expect(one.body).toMatchObject({ call_sid: b.callSid, end_conference_on_exit: false });

    b.hangUp();
    await expect(bDial).rejects.toThrow("hung up");
    await b.callbacksQueued(3);
    a.hangUp();
    await expect(aDial).rejects.toThrow("hung up");
    await a.callbacksQueued(3);

    const ended = await conferenceNamed("standup", (c) => c?.status === "completed");
    expect(ended).toMatchObject({
      sid,
      reason_conference_ended: "last-participant-left",
      call_sid_ending_conference: a.callSid,
    });
    const gone = await stack.rest("GET", `${stack.account}/Conferences/${sid}/Participants.json`);
    expect(gone.body.participants).toEqual([]);

    const sent = [...a.callbacks, ...b.callbacks].sort(
      (x, y) => Number(x.params.SequenceNumber) - Number(y.params.SequenceNumber),
    );
    const flags = (callSid: string, muted: boolean) => ({
      CallSid: callSid,
      Muted: String(muted),
      Hold: "false",
      Coaching: "false",
      EndConferenceOnExit: "false",
      StartConferenceOnEnter: "true",
    });
    const common = { AccountSid: stack.engine.accountSid, ConferenceSid: sid, FriendlyName: "standup" };
    expect(sent.map((c) => c.params)).toEqual([
      {
        ...common,
        ...flags(a.callSid, false),
        StatusCallbackEvent: "participant-join",
        SequenceNumber: "1",
        Timestamp: expect.any(String),
      },
      {
        ...common,
        ...flags(b.callSid, true),
        StatusCallbackEvent: "participant-join",
        SequenceNumber: "2",
        Timestamp: expect.any(String),
      },
      {
        ...common,
        StatusCallbackEvent: "conference-start",
        SequenceNumber: "3",
        Timestamp: expect.any(String),
      },
      {
        ...common,
        ...flags(b.callSid, true),
        StatusCallbackEvent: "participant-leave",
        SequenceNumber: "4",
        Timestamp: expect.any(String),
      },
      {
        ...common,
        ...flags(a.callSid, false),
        StatusCallbackEvent: "participant-leave",
        SequenceNumber: "5",
        Timestamp: expect.any(String),
      },
      {
        ...common,
        StatusCallbackEvent: "conference-end",
        SequenceNumber: "6",
        Timestamp: expect.any(String),
        ReasonConferenceEnded: "last-participant-left",
        CallSidEndingConference: a.callSid,
      },
    ]);
    // The first participant's statusCallback is the conference's: every event goes there.
    expect(new Set(sent.map((c) => `${c.method} ${c.url}`))).toEqual(new Set([`POST ${callbackUrl}`]));
    expect(new Set(sent.map((c) => c.key)).size).toBe(6);
    expect(sent[0]?.params.Timestamp).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  });

  it("keeps a startConferenceOnEnter=false caller on the waitUrl until the moderator comes, and endConferenceOnExit ends it for them", async () => {
    const waiter = await participant();
    const moderator = await participant();
    const waiting = waiter.dial({
      name: "moderated",
      startConferenceOnEnter: false,
      waitUrl: `${stack.app.url}/conf-wait`,
    });
    const wait = await stack.app.waitFor(
      (r) => r.path === "/conf-wait" && r.params.CallSid === waiter.callSid,
    );
    expect(wait.signatureValid).toBe(true);
    expect(wait.params.FriendlyName).toBe("moderated");
    expect(wait.params.ConferenceSid).toMatch(/^CF[0-9a-f]{32}$/);
    const init = await conferenceNamed("moderated", (c) => c?.status === "init");
    expect(init.sid).toBe(wait.params.ConferenceSid);
    await expect.poll(() => waiter.channel.calls.map((c) => c[0])).toContain("say");
    expect(waiter.channel.calls).toContainEqual(["say", "waiting for the moderator", expect.anything()]);

    const moderating = moderator.dial({ name: "moderated", endConferenceOnExit: true });
    await conferenceNamed("moderated", (c) => c?.status === "in-progress");
    moderator.hangUp();
    await expect(moderating).rejects.toThrow("hung up");
    // The conference ended for the waiter too: its Dial is over, answered.
    await expect(waiting).resolves.toMatchObject({ status: "answered", bridged: true });
    const ended = await conferenceNamed("moderated", (c) => c?.status === "completed");
    expect(ended).toMatchObject({
      reason_conference_ended: "participant-with-end-conference-on-exit-left",
      call_sid_ending_conference: moderator.callSid,
    });
  });

  it("keeps a first participant on the waitUrl, startConferenceOnEnter and all, until a second joins", async () => {
    const first = await participant();
    const second = await participant();
    const firstDial = first.dial({ name: "alone-first", waitUrl: `${stack.app.url}/conf-wait` });
    await stack.app.waitFor((r) => r.path === "/conf-wait" && r.params.CallSid === first.callSid);
    await expect.poll(() => first.channel.calls.map((c) => c[0])).toContain("say");
    expect((await conferenceNamed("alone-first", (c) => c !== undefined)).status).toBe("init");
    const secondDial = second.dial({ name: "alone-first" });
    await conferenceNamed("alone-first", (c) => c?.status === "in-progress");
    second.hangUp();
    first.hangUp();
    await Promise.allSettled([firstDial, secondDial]);
  });

  it("turns away a caller over maxParticipants and one whose participantLabel is taken", async () => {
    const [a, b, c] = await Promise.all([participant(), participant(), participant()]);
    const aDial = a.dial({ name: "small", maxParticipants: 2, participantLabel: "host" });
    await conferenceNamed("small", (x) => x?.status === "init");
    // A taken label skips the Dial (16025): no action request, the next verb runs.
    await expect(b.dial({ name: "small", participantLabel: "host" })).resolves.toMatchObject({
      status: "failed",
      skip: true,
    });
    const cDial = c.dial({ name: "small" });
    const { sid } = await conferenceNamed("small", () => true);
    await expect
      .poll(async () => {
        const list = await stack.rest("GET", `${stack.account}/Conferences/${sid}/Participants.json`);
        return (list.body.participants as unknown[]).length;
      })
      .toBe(2);
    const d = await participant();
    await expect(d.dial({ name: "small" })).resolves.toMatchObject({ status: "failed" });
    c.hangUp();
    a.hangUp();
    await Promise.allSettled([aDial, cDial]);
  });

  it("keeps a call that moves to another worker in the conference: its resumed Dial finds itself joined", async () => {
    const [a, b] = await Promise.all([participant(), participant()]);
    const events = {
      statusCallback: callbackUrl,
      statusCallbackEvents: ["participant-join", "participant-leave"],
    };
    const aDial = a.dial({ name: "handover", ...events });
    const bDial = b.dial({ name: "handover" });
    await a.callbacksQueued(1);
    await b.callbacksQueued(1);
    a.hangUp(new CallHandedOver("moved"));
    await expect(aDial).rejects.toThrow("moved");
    const resumed = await participant(a.callSid);
    const again = resumed.dial({ name: "handover", ...events });
    const { sid } = await conferenceNamed("handover", (c) => c?.status === "in-progress");
    const list = await stack.rest("GET", `${stack.account}/Conferences/${sid}/Participants.json`);
    expect((list.body.participants as { call_sid: string }[]).map((p) => p.call_sid)).toEqual([
      a.callSid,
      b.callSid,
    ]);
    b.hangUp();
    await expect(bDial).rejects.toThrow("hung up");
    await b.callbacksQueued(2);
    resumed.hangUp();
    await expect(again).rejects.toThrow("hung up");
    await resumed.callbacksQueued(1);
    // No second join for the resumed call: the events are join a, join b, leave b, leave a.
    const sent = [...a.callbacks, ...b.callbacks, ...resumed.callbacks].map(
      (c) =>
        `${c.params.SequenceNumber} ${c.params.StatusCallbackEvent} ${c.params.CallSid === a.callSid ? "a" : "b"}`,
    );
    expect(sent.sort()).toEqual([
      "1 participant-join a",
      "2 participant-join b",
      "3 participant-leave b",
      "4 participant-leave a",
    ]);
  });

  it("lets REST mute, remove and end, and sends each change to the conference's statusCallback, signed", async () => {
    const [a, b] = await Promise.all([participant(), participant()]);
    const events = {
      statusCallback: `${stack.app.url}/conf-events`,
      statusCallbackEvents: ["participant-join", "participant-leave", "participant-mute", "conference-end"],
    };
    const aDial = a.dial({ name: "managed", ...events });
    await a.callbacksQueued(1);
    const bDial = b.dial({ name: "managed" });
    await b.callbacksQueued(1);
    const { sid } = await conferenceNamed("managed", (c) => c?.status === "in-progress");
    const base = `${stack.account}/Conferences/${sid}`;

    const muted = await stack.rest("POST", `${base}/Participants/${b.callSid}.json`, { Muted: "true" });
    expect(muted.body).toMatchObject({ call_sid: b.callSid, muted: true, hold: false });
    // A change switchboard does not make is refused, not answered 200 with nothing changed.
    const notMade = await stack.rest("POST", `${base}/Participants/${b.callSid}.json`, {
      EndConferenceOnExit: "true",
    });
    expect(notMade).toMatchObject({ status: 400, body: { code: 20422 } });
    expect(String((notMade.body as { message?: string }).message)).toContain("EndConferenceOnExit");
    const kicked = await stack.rest("DELETE", `${base}/Participants/${a.callSid}.json`);
    expect(kicked.status).toBe(204);
    // A removed participant's call goes on after its Dial.
    await expect(aDial).resolves.toMatchObject({ status: "answered", bridged: true });
    const ended = await stack.rest("POST", `${base}.json`, { Status: "completed" });
    expect(ended.body).toMatchObject({
      status: "completed",
      reason_conference_ended: "conference-ended-via-api",
    });
    await expect(bDial).resolves.toMatchObject({ status: "answered" });

    await stack.app.waitFor(
      (r) => r.path === "/conf-events" && r.params.StatusCallbackEvent === "conference-end",
    );
    const sent = stack.app.requests.filter(
      (r) => r.path === "/conf-events" && r.params.ConferenceSid === sid,
    );
    expect(sent.every((r) => r.signatureValid)).toBe(true);
    const who = (callSid: string | undefined) =>
      callSid === a.callSid ? "a" : callSid === b.callSid ? "b" : "-";
    expect(
      sent
        .map((r) => `${r.params.SequenceNumber} ${r.params.StatusCallbackEvent} ${who(r.params.CallSid)}`)
        .sort(),
    ).toEqual([
      "3 participant-mute b",
      "4 participant-leave a",
      "5 participant-leave b",
      "6 conference-end -",
    ]);
    expect(sent.find((r) => r.params.StatusCallbackEvent === "participant-mute")?.params.Muted).toBe("true");
    expect(sent.find((r) => r.params.StatusCallbackEvent === "conference-end")?.params).toMatchObject({
      ReasonConferenceEnded: "conference-ended-via-api",
      FriendlyName: "managed",
      AccountSid: stack.engine.accountSid,
    });
  });
});
