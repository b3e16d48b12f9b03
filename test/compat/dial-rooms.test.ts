// <Dial><Conference> and <Dial><Queue> from a real call's TwiML (the nouns' own tests call them
// directly): two callers meet in a conference until the moderator leaves, and an agent's <Dial><Queue>
// takes the caller waiting in an <Enqueue>. TwiML from twilio's VoiceResponse, every request
// signature-checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { type CompatStack, startCompatStack } from "./stack.js";

const CONFERENCE = "+15551230200";
const QUEUE = "+15551230201";
const AGENT_LINE = "+15551230202";
const AGENT_ON_BRIDGE = "+15551230203";
const AGENT_WITH_STAR = "+15551230204";
const MODERATOR = "+15550002001";
const GUEST = "+15550002002";
const never = new Promise<never>(() => {});
let stack: CompatStack;

function twiml(build: (r: InstanceType<typeof VoiceResponse>) => void) {
  const r = new VoiceResponse();
  build(r);
  return { body: r.toString() };
}

beforeAll(async () => {
  stack = await startCompatStack({
    "/conference": (req) =>
      twiml((r) => {
        const moderator = req.params.From === MODERATOR;
        r.dial({ action: "/dial-after" }).conference(
          {
            startConferenceOnEnter: moderator,
            endConferenceOnExit: moderator,
            waitUrl: "",
            statusCallback: "/conference-events",
            statusCallbackEvent: ["start", "end", "join", "leave"],
          },
          "standup",
        );
        r.say("the conference is over");
      }),
    "/conference-events": () => twiml(() => {}),
    "/dial-after": () => twiml((r) => r.say("goodbye")),
    "/enqueue": () => twiml((r) => r.enqueue({ action: "/enqueue-after", waitUrl: "/hold" }, "helpdesk")),
    // The wait document is held back: the caller waits in the queue until an agent takes it.
    "/hold": () => never,
    "/enqueue-after": () => twiml((r) => r.say("thanks for calling")),
    "/agent": () => twiml((r) => r.dial({ action: "/agent-after" }).queue({ url: "/whisper" }, "helpdesk")),
    "/agent-on-bridge": () =>
      twiml((r) =>
        r.dial({ action: "/agent-after", answerOnBridge: true }).queue({ url: "/whisper" }, "helpdesk"),
      ),
    "/agent-star": () =>
      twiml((r) =>
        r.dial({ action: "/agent-after", hangupOnStar: true }).queue({ url: "/whisper" }, "helpdesk"),
      ),
    "/whisper": () => twiml((r) => r.say("an agent is taking your call")),
    "/agent-after": () => twiml((r) => r.say("next caller")),
  });
  await stack.engine.addNumber({ number: CONFERENCE, voiceUrl: `${stack.app.url}/conference` });
  await stack.engine.addNumber({ number: QUEUE, voiceUrl: `${stack.app.url}/enqueue` });
  await stack.engine.addNumber({ number: AGENT_LINE, voiceUrl: `${stack.app.url}/agent` });
  await stack.engine.addNumber({ number: AGENT_ON_BRIDGE, voiceUrl: `${stack.app.url}/agent-on-bridge` });
  await stack.engine.addNumber({ number: AGENT_WITH_STAR, voiceUrl: `${stack.app.url}/agent-star` });
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const place = (to: string, from: string, hangupAfter?: number) =>
  stack.place(to, from, hangupAfter === undefined ? {} : { hangupAfter });

const requestsOf = (callSid: string, path: string) =>
  stack.app.requests.filter((r) => r.path === path && r.params.CallSid === callSid);

describe("<Dial><Conference>", () => {
  it("holds the guest until the moderator leaves, then requests the guest's action with DialCallStatus=answered", async () => {
    const guest = place(CONFERENCE, GUEST);
    const guestSid = await guest.callSid;
    await stack.app.waitFor(
      (r) =>
        r.path === "/conference-events" &&
        r.params.CallSid === guestSid &&
        r.params.StatusCallbackEvent === "participant-join",
    );
    // The moderator starts the conference and ends it for everyone when it hangs up.
    const moderator = place(CONFERENCE, MODERATOR, 2);
    const [g, m] = await Promise.all([guest.ended, moderator.ended]);

    expect(m.call.status).toBe("completed");
    // The caller hung up during the Dial: the session ends, no action request.
    expect(requestsOf(m.callSid, "/dial-after")).toEqual([]);
    expect(g.call.status).toBe("completed");
    const [after] = requestsOf(g.callSid, "/dial-after");
    expect(after?.signatureValid).toBe(true);
    expect(after?.params).toMatchObject({ DialCallStatus: "answered", DialBridged: "true" });
    expect(after?.params.ConferenceSid).toMatch(/^CF[0-9a-f]{32}$/);
    // Twilio sends neither for a conference.
    expect(after?.params).not.toHaveProperty("DialCallSid");
    expect(after?.params).not.toHaveProperty("DialCallDuration");

    // Callbacks are sent from the outbox after the calls moved on, concurrently: wait for the last
    // one, and order them by SequenceNumber, not by arrival.
    await stack.app.waitFor(
      (r) => r.path === "/conference-events" && r.params.StatusCallbackEvent === "conference-end",
    );
    const events = stack.app.requests
      .filter((r) => r.path === "/conference-events")
      .sort((a, b) => Number(a.params.SequenceNumber) - Number(b.params.SequenceNumber))
      .map((r) => r.params.StatusCallbackEvent);
    expect(events[0]).toBe("participant-join");
    expect(events).toContain("conference-start");
    expect(events.at(-1)).toBe("conference-end");
    const conference = await stack.rest<{ status: string; friendly_name: string }>(
      "GET",
      `${stack.account}/Conferences/${after?.params.ConferenceSid}.json`,
    );
    expect(conference.body).toMatchObject({ status: "completed", friendly_name: "standup" });
  });
});

describe("<Dial><Queue>", () => {
  it("bridges the agent to the caller at the front of the queue, after playing the caller the noun's url", async () => {
    const caller = place(QUEUE, "+15550002003");
    const callerSid = await caller.callSid;
    await stack.app.waitFor((r) => r.path === "/hold" && r.params.CallSid === callerSid);
    const agent = place(AGENT_LINE, "+15550002004", 2);
    const [c, a] = await Promise.all([caller.ended, agent.ended]);

    expect(requestsOf(callerSid, "/whisper")).toHaveLength(1);
    const [after] = requestsOf(callerSid, "/enqueue-after");
    expect(after?.signatureValid).toBe(true);
    expect(after?.params).toMatchObject({ QueueResult: "bridged", DequeuingCallSid: a.callSid });
    expect(after?.params.QueueSid).toMatch(/^QU[0-9a-f]{32}$/);
    expect(c.call.status).toBe("completed");
    // The agent hung up on the bridge: its session ends there.
    expect(a.call.status).toBe("completed");
    expect(requestsOf(a.callSid, "/agent-after")).toEqual([]);
  });

  it("hangupOnStar: the agent's * ends the bridge, and its Dial's action is requested", async () => {
    const caller = place(QUEUE, "+15550002007");
    const callerSid = await caller.callSid;
    await stack.app.waitFor((r) => r.path === "/hold" && r.params.CallSid === callerSid);
    const agent = stack.place(AGENT_WITH_STAR, "+15550002008", { starAfter: [2], hangupAfter: 60 });
    const a = await agent.ended;
    const [after] = requestsOf(a.callSid, "/agent-after");
    expect(after?.params).toMatchObject({ DialCallStatus: "completed", DialCallSid: callerSid });
    // The caller was let go by the bridge's end: its own call goes on to its Enqueue action.
    const c = await caller.ended;
    expect(requestsOf(c.callSid, "/enqueue-after")[0]?.params.QueueResult).toBe("bridged");
  });

  it("answers an answerOnBridge agent as the bridge starts", async () => {
    const caller = place(QUEUE, "+15550002005");
    const callerSid = await caller.callSid;
    await stack.app.waitFor((r) => r.path === "/hold" && r.params.CallSid === callerSid);
    // The agent hangs up 2 s after its answer: unanswered, it would ring on and never hang up.
    const agent = place(AGENT_ON_BRIDGE, "+15550002006", 2);
    const [, a] = await Promise.all([caller.ended, agent.ended]);
    expect(a.call).toMatchObject({ status: "completed", duration: "2" });
  });
});
