// <Enqueue>, <Leave> and <Dial><Queue> as a Twilio app uses them: TwiML from twilio's VoiceResponse,
// every request signature-checked, the queue's REST resources checked against Twilio's description.

import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buckets, subjects } from "../../src/protocol/subjects.js";
import { queuePort } from "../../src/region/rooms/queues.js";
import { listKeysOf } from "../../src/store/cas-kv.js";
import { QueueStore } from "../../src/store/queue-store.js";
import { openRoomStores } from "../../src/store/room-stores.js";
import { CallHandedOver, CallRedirected } from "../../src/twiml/abort-reasons.js";
import { parseTwiml } from "../../src/twiml/parse.js";
import type { VerbContext } from "../../src/twiml/verb-context.js";
import { queueNoun } from "../../src/twiml/verbs/dial/queue.js";
import { enqueue } from "../../src/twiml/verbs/enqueue.js";
import { dyingAfter } from "../helpers/dying-kv.js";
import { type ReceivedRequest, VoiceResponse } from "../helpers/twilio-app.js";
import { DIAL_DEFAULTS, fakeContext } from "../twiml/fakes.js";
import { type CompatStack, startCompatStack } from "./stack.js";

const NUMBER = "+15551230100";
const SALES = "+15551230101";
// Each test's caller, by From: the wait document answers each one its own way.
const LEAVER = "+15550000001";
const HANGER = "+15550000002";
const REDIRECTED = "+15550000003";
const BRIDGED = "+15550000004";
const WAITING = "+15550000005";
const TURNED_AWAY = "+15550000006";
const MOVED = "+15550000007";
const LATE = "+15550000008";

const never = new Promise<never>(() => {});
let stack: CompatStack;

function twiml(build: (r: InstanceType<typeof VoiceResponse>) => void) {
  const r = new VoiceResponse();
  build(r);
  return { body: r.toString() };
}

beforeAll(async () => {
  stack = await startCompatStack(
    {
      "/enqueue": () =>
        twiml((r) => {
          r.enqueue({ action: "/after", waitUrl: "/wait" }, "support");
          r.say("not reached: the action answers");
        }),
      "/enqueue-sales": () => twiml((r) => r.enqueue({ action: "/after", waitUrl: "/wait" }, "sales")),
      "/wait": (req) => {
        const from = req.params.From;
        // REST and Dial tests hold the wait document back: the caller waits, its time standing still.
        if (from === REDIRECTED || from === BRIDGED || from === WAITING || from === MOVED) return never;
        const mine = stack.app.requests.filter(
          (r) => r.path === "/wait" && r.params.CallSid === req.params.CallSid,
        );
        if (from === LEAVER && mine.length >= 2) return twiml((r) => r.leave());
        return twiml((r) => r.say("please hold"));
      },
      "/after": () => twiml((r) => r.say("bye")),
      "/rest-next": () =>
        twiml((r) => {
          r.say("redirected");
          r.hangup();
        }),
      "/whisper": () => twiml((r) => r.say("connecting you")),
      // Two workers share the region: a queue's callers may run on either.
    },
    2,
  );
  await stack.engine.addNumber({ number: NUMBER, voiceUrl: `${stack.app.url}/enqueue` });
  await stack.engine.addNumber({ number: SALES, voiceUrl: `${stack.app.url}/enqueue-sales` });
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

const requestsOf = (callSid: string) => stack.app.requests.filter((r) => r.params.CallSid === callSid);

/** Places a call to NUMBER (or `opts.to`) from `from`. */
const place = (from: string, opts: { to?: string; hangupAfter?: number } = {}) =>
  stack.place(opts.to ?? NUMBER, from, opts);

const firstWait = (callSid: string) =>
  stack.app.waitFor((r) => r.path === "/wait" && r.params.CallSid === callSid);

/**
 * An agent's worker claims the front caller of the queue, then dies before taking it out of the list
 * (its list write fails; the claim stands, and the dequeue answers with it).
 */
async function claimAndDie(store: QueueStore, queueSid: string, agent: string, member: string) {
  const dying = dyingAfter(2);
  const agentRun = new QueueStore(dying(store.kv), stack.engine.nc, subjects(), "us1", dying(store.bridges));
  const taken = await agentRun.dequeue(stack.engine.accountSid, queueSid, "front", { by: agent }, "1.0");
  expect(taken).toMatchObject({ member });
}

/**
 * The keys `callSid`'s bridge left in the region's queues bucket (which nothing expires) and in the
 * conferences bucket (whose entries go after a day), and that bucket's expiry.
 */
async function bridgeKeysOf(callSid: string) {
  const kvm = new Kvm(stack.engine.nc);
  const keysOf = async (bucket: string) =>
    (await listKeysOf(await kvm.open(bucket), `*.${callSid}.>`))
      .concat(await listKeysOf(await kvm.open(bucket), `*.${callSid}`))
      .sort();
  const conferences = await kvm.open(buckets.conferences("us1"));
  return {
    queues: await keysOf(buckets.queues("us1")),
    expiring: await keysOf(buckets.conferences("us1")),
    ttlMs: (await conferences.status()).ttl,
  };
}

describe("<Enqueue>", () => {
  it("requests the waitUrl with the queue's parameters, and <Leave> goes on at the action with QueueResult=leave", async () => {
    const { ended } = place(LEAVER);
    const { callSid, call } = await ended;
    expect(call.status).toBe("completed");
    const requests = requestsOf(callSid);
    expect(requests.map((r) => r.path)).toEqual(["/enqueue", "/wait", "/wait", "/after"]);
    expect(requests.every((r) => r.signatureValid)).toBe(true);
    const [, first, second, after] = requests as [
      ReceivedRequest,
      ReceivedRequest,
      ReceivedRequest,
      ReceivedRequest,
    ];
    const queueSid = first.params.QueueSid ?? "";
    expect(queueSid).toMatch(/^QU[0-9a-f]{32}$/);
    expect(first.params).toMatchObject({
      QueueSid: queueSid,
      QueuePosition: "1",
      CurrentQueueSize: "1",
      MaxQueueSize: "1000",
      QueueTime: "0",
      AvgQueueTime: "0",
      CallStatus: "in-progress",
    });
    // "please hold" takes 0.7 s of the call's time.
    expect(second.params).toMatchObject({ QueueSid: queueSid, QueueTime: "1", QueuePosition: "1" });
    expect(after.params).toMatchObject({ QueueResult: "leave", QueueSid: queueSid, QueueTime: "1" });

    const members = await stack.rest(`GET`, `${stack.account}/Queues/${queueSid}/Members.json`);
    expect(members.body.queue_members).toEqual([]);
  });

  it("tells the action QueueResult=hangup when the caller hangs up while waiting", async () => {
    // Waiting on others, the caller's time runs at the wall clock's pace: 3 s are 3 s.
    const { ended } = place(HANGER, { hangupAfter: 3 });
    const { callSid, call } = await ended;
    expect(call.duration).toBe("3");
    const after = await stack.app.waitFor((r) => r.path === "/after" && r.params.CallSid === callSid);
    expect(after.signatureValid).toBe(true);
    expect(after.params).toMatchObject({ QueueResult: "hangup", QueueTime: "3" });
    expect(after.params.QueueSid).toMatch(/^QU/);
    // The wait document played again and again until the hang-up (0.7 s each).
    expect(requestsOf(callSid).filter((r) => r.path === "/wait").length).toBeGreaterThanOrEqual(4);
    const member = await stack.rest(
      "GET",
      `${stack.account}/Queues/${after.params.QueueSid}/Members/${callSid}.json`,
    );
    expect(member.status).toBe(404);
  });

  it("lists a waiting caller as a Member, and a REST dequeue (POST Url to Front) redirects it", async () => {
    const { callSid: offered, ended } = place(REDIRECTED);
    const callSid = await offered;
    const wait = await firstWait(callSid);
    const queueSid = wait.params.QueueSid ?? "";

    const queue = await stack.rest("GET", `${stack.account}/Queues/${queueSid}.json`);
    expect(queue.body).toMatchObject({
      sid: queueSid,
      friendly_name: "support",
      current_size: 1,
      max_size: 1000,
      account_sid: stack.engine.accountSid,
      uri: `${stack.account}/Queues/${queueSid}.json`,
    });
    const list = await stack.rest("GET", `${stack.account}/Queues.json`);
    expect((list.body.queues as { sid: string }[]).map((q) => q.sid)).toContain(queueSid);
    const members = await stack.rest("GET", `${stack.account}/Queues/${queueSid}/Members.json`);
    expect(members.body.queue_members).toEqual([
      expect.objectContaining({ call_sid: callSid, queue_sid: queueSid, position: 1 }),
    ]);
    const front = await stack.rest("GET", `${stack.account}/Queues/${queueSid}/Members/Front.json`);
    expect(front.body).toMatchObject({ call_sid: callSid, position: 1 });

    const dequeued = await stack.rest("POST", `${stack.account}/Queues/${queueSid}/Members/Front.json`, {
      Url: `${stack.app.url}/rest-next`,
      Method: "POST",
    });
    expect(dequeued.status).toBe(200);
    expect(dequeued.body).toMatchObject({ call_sid: callSid, queue_sid: queueSid });

    const { call } = await ended;
    expect(call.status).toBe("completed");
    expect(requestsOf(callSid).map((r) => r.path)).toContain("/rest-next");
    const after = await stack.app.waitFor((r) => r.path === "/after" && r.params.CallSid === callSid);
    expect(after.params).toMatchObject({ QueueResult: "redirected", QueueSid: queueSid });
    const emptied = await stack.rest("GET", `${stack.account}/Queues/${queueSid}.json`);
    expect(emptied.body.current_size).toBe(0);
    // How the member left lives no longer than a day: not among the queues, which are kept.
    expect(await bridgeKeysOf(callSid)).toEqual({
      queues: [],
      expiring: [`b.${callSid}`],
      ttlMs: 24 * 60 * 60 * 1000,
    });
  });

  it("dequeues over REST (Front) the first caller no agent has claimed: one an agent claimed and died holding is passed over", async () => {
    // Two members whose calls run nowhere (a claimed caller whose call runs takes itself out of the list).
    const { accountSid, nc } = stack.engine;
    const { queues: store } = await openRoomStores(nc, subjects(), "us1");
    const [claimed, next] = ["CA00000000000000000000000000000c01", "CA00000000000000000000000000000c02"];
    const { queue } = await store.enqueue(accountSid, "front-line", claimed);
    await store.enqueue(accountSid, "front-line", next);
    // An agent claims the front one; its worker dies before taking it out of the list.
    await claimAndDie(store, queue.sid, "CA0000000000000000000000000000a009", claimed);
    expect((await store.get(accountSid, queue.sid))?.members.map((m) => m.callSid)).toEqual([claimed, next]);

    const dequeued = await stack.rest("POST", `${stack.account}/Queues/${queue.sid}/Members/Front.json`, {
      Url: `${stack.app.url}/rest-next`,
    });
    expect(dequeued.status).toBe(200);
    expect(dequeued.body).toMatchObject({ call_sid: next, queue_sid: queue.sid, position: 2 });
    expect(await store.bridge(next)).toMatchObject({ redirect: true, url: `${stack.app.url}/rest-next` });
    expect((await store.get(accountSid, queue.sid))?.members).toEqual([]);
  });

  it("tells the action QueueResult=redirected when a REST call update gives the waiting caller new TwiML", async () => {
    const { callSid: offered, ended } = place(MOVED);
    const callSid = await offered;
    const queueSid = (await firstWait(callSid)).params.QueueSid ?? "";
    // The api finds a live call by its stored snapshot, written just after the call enters a verb.
    const actors = await new Kvm(stack.engine.nc).open(buckets.actors("us1"));
    await expect
      .poll(async () => {
        const stored = (await actors.get(callSid))?.json() as
          | { value?: unknown; context?: { verb?: unknown } }
          | undefined;
        return [stored?.value, stored?.context?.verb];
      })
      .toEqual([{ "executing-twiml": "verb" }, "Enqueue"]);
    const updated = await stack.rest("POST", `${stack.account}/Calls/${callSid}.json`, {
      Url: `${stack.app.url}/rest-next`,
    });
    expect(updated.status).toBe(200);
    expect((await ended).call.status).toBe("completed");
    const after = await stack.app.waitFor((r) => r.path === "/after" && r.params.CallSid === callSid);
    expect(after.params).toMatchObject({
      QueueResult: "redirected",
      QueueSid: queueSid,
      CallStatus: "in-progress",
    });
    const member = await stack.rest("GET", `${stack.account}/Queues/${queueSid}/Members/${callSid}.json`);
    expect(member.status).toBe(404);
  });

  it("answers QueueResult=queue-full, without a QueueSid, when the queue is at its MaxSize", async () => {
    const created = await stack.rest("POST", `${stack.account}/Queues.json`, {
      FriendlyName: "sales",
      MaxSize: "1",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ friendly_name: "sales", max_size: 1, current_size: 0 });
    const queueSid = String(created.body.sid);
    const again = await stack.rest("POST", `${stack.account}/Queues.json`, { FriendlyName: "sales" });
    expect(again.status).toBe(400);

    const first = place(WAITING, { to: SALES });
    const waiting = await first.callSid;
    expect((await firstWait(waiting)).params.QueueSid).toBe(queueSid);
    const { callSid } = await place(TURNED_AWAY, { to: SALES }).ended;
    const after = requestsOf(callSid).find((r) => r.path === "/after");
    expect(after?.params.QueueResult).toBe("queue-full");
    expect(after?.params.QueueSid).toBeUndefined();

    await stack.rest("POST", `${stack.account}/Queues/${queueSid}/Members/${waiting}.json`, {
      Url: `${stack.app.url}/rest-next`,
    });
    expect((await first.ended).call.status).toBe("completed");
  });
});

describe("<Dial><Queue> (the noun, with the region's real queue port)", () => {
  const options = DIAL_DEFAULTS;

  async function dialer(callSid: string): Promise<VerbContext> {
    const { engine } = stack;
    const { queues: store } = await openRoomStores(engine.nc, subjects(), "us1");
    const { ctx } = fakeContext();
    const identity = { accountSid: engine.accountSid, callSid };
    return {
      ...ctx,
      call: { ...ctx.call, ...identity },
      step: "1.0",
      queues: queuePort(store, engine.nc, { holding: (work) => work(), pacing: (work) => work() }, identity),
    };
  }

  it("dequeues the front caller, plays them its url, and stays bridged until they hang up", async () => {
    const { callSid: offered, ended } = place(BRIDGED, { hangupAfter: 3 });
    const member = await offered;
    const wait = await firstWait(member);
    const agent = "CA0000000000000000000000000000a001";
    const ctx = await dialer(agent);
    const result = await queueNoun.dial(
      ctx,
      { noun: "Queue", name: "support", url: `${stack.app.url}/whisper`, method: "POST" },
      options,
      new AbortController().signal,
    );
    expect(result).toMatchObject({
      status: "completed",
      callSid: member,
      bridged: true,
      params: { QueueSid: wait.params.QueueSid },
    });
    const whisper = requestsOf(member).find((r) => r.path === "/whisper");
    expect(whisper?.signatureValid).toBe(true);
    expect(whisper?.params).toMatchObject({ QueueSid: wait.params.QueueSid, DequeingCallSid: agent });
    await ended;
    const after = await stack.app.waitFor((r) => r.path === "/after" && r.params.CallSid === member);
    expect(after.params).toMatchObject({ QueueResult: "bridged", QueueSid: wait.params.QueueSid });
    // Its time in the queue stops at the dequeue (as the url's request said), not at its hang-up
    // 3 s into the bridge.
    expect(after.params.QueueTime).toBe(whisper?.params.QueueTime);
    expect(await bridgeKeysOf(member)).toMatchObject({ queues: [], expiring: [`b.${member}`] });
    expect(await bridgeKeysOf(agent)).toMatchObject({ queues: [], expiring: [`d.${agent}.1.0`] });
  });

  it("waits on an empty queue until a caller comes, then bridges to them", async () => {
    const ctx = await dialer("CA0000000000000000000000000000a003");
    const dialing = queueNoun.dial(
      ctx,
      { noun: "Queue", name: "support", method: "POST" },
      options,
      new AbortController().signal,
    );
    const { callSid: offered, ended } = place(LATE, { hangupAfter: 2 });
    const member = await offered;
    await expect(dialing).resolves.toMatchObject({ status: "completed", callSid: member, bridged: true });
    expect((await ended).call.status).toBe("completed");
    const after = await stack.app.waitFor((r) => r.path === "/after" && r.params.CallSid === member);
    expect(after.params.QueueResult).toBe("bridged");
  });

  it("fails the Dial for a queue that does not exist", async () => {
    const ctx = await dialer("CA0000000000000000000000000000a002");
    const result = await queueNoun.dial(
      ctx,
      { noun: "Queue", name: "nobody-made-this", method: "POST" },
      options,
      new AbortController().signal,
    );
    expect(result).toMatchObject({ status: "failed", bridged: false });
  });
});

describe("<Enqueue> across a hand-over (the verb, with the region's real queue port)", () => {
  /** The region's real queue port for `callSid`, and verb contexts for that call on "workers". */
  async function rig(callSid: string) {
    const { engine } = stack;
    const { queues: store } = await openRoomStores(engine.nc, subjects(), "us1");
    const port = (sid: string) =>
      queuePort(
        store,
        engine.nc,
        { holding: (work) => work(), pacing: (work) => work() },
        { accountSid: engine.accountSid, callSid: sid },
      );
    const verbContext = () => {
      const fake = fakeContext();
      /** The wait music's documents requested, in order. */
      const fetched: string[] = [];
      const ctx: VerbContext = {
        ...fake.ctx,
        call: { ...fake.ctx.call, accountSid: engine.accountSid, callSid },
        queues: port(callSid),
        // The wait music pauses on the test's clock, which never moves: the caller just waits.
        fetchTwiml: async (url) => {
          fetched.push(url);
          return {
            ...parseTwiml(new VoiceResponse().pause({ length: 30 }).toString(), url),
            documentUrl: url,
          };
        },
      };
      return { ...fake, ctx, fetched };
    };
    const inQueue = async (name: string) =>
      (await store.byName(engine.accountSid, name))?.members.map((m) => m.callSid);
    return { store, port, verbContext, inQueue };
  }
  const verbFor = (queue: string) =>
    ({
      name: "Enqueue",
      queue,
      action: "https://app.example/after",
      method: "POST",
      waitUrl: "https://app.example/wait",
      waitUrlMethod: "POST",
    }) as const;

  it("keeps a caller whose call moves to another worker in its place; the resumed verb finds it there", async () => {
    const callSid = "CA0000000000000000000000000000b001";
    const { verbContext, inQueue } = await rig(callSid);
    const verb = verbFor("handover");

    const first = verbContext();
    const moving = new AbortController();
    const running = enqueue.execute(first.ctx, verb, moving.signal);
    await expect.poll(() => inQueue("handover")).toEqual([callSid]);
    moving.abort(new CallHandedOver("moved"));
    await expect(running).rejects.toThrow("moved");
    expect(await inQueue("handover")).toEqual([callSid]);
    expect(first.callbacks).toEqual([]);

    const resumed = verbContext();
    const hangup = new AbortController();
    const again = enqueue.execute(resumed.ctx, verb, hangup.signal);
    await expect.poll(() => resumed.channel.calls.length).toBeGreaterThan(0);
    expect(await inQueue("handover")).toEqual([callSid]);
    hangup.abort(new Error("the caller hung up"));
    await expect(again).rejects.toThrow("hung up");
    await expect.poll(() => inQueue("handover")).toEqual([]);
    await expect.poll(() => resumed.callbacks.length).toBe(1);
    expect(resumed.callbacks[0]?.params).toMatchObject({ QueueResult: "hangup", CallSid: callSid });
  });

  it("tells a bridged caller's action QueueResult=redirected-from-bridged, in progress, when its call is redirected", async () => {
    const callSid = "CA0000000000000000000000000000b009";
    const agentSid = "CA0000000000000000000000000000a00b";
    const { store, port, verbContext, inQueue } = await rig(callSid);
    const caller = verbContext();
    const moving = new AbortController();
    const running = enqueue.execute(caller.ctx, verbFor("moving"), moving.signal);
    running.catch(() => {});
    await expect.poll(() => inQueue("moving")).toEqual([callSid]);
    const queueSid = (await store.byName(stack.engine.accountSid, "moving"))?.sid ?? "";
    await store.dequeue(stack.engine.accountSid, queueSid, "front", { by: agentSid }, "1.0");
    await expect.poll(async () => (await port(agentSid).bridge(callSid))?.state).toBe("bridged");
    // A REST update gives the bridged caller new TwiML.
    moving.abort(new CallRedirected("new TwiML"));
    await expect(running).rejects.toThrow("new TwiML");
    await expect.poll(() => caller.callbacks.length).toBe(1);
    expect(caller.callbacks[0]?.params).toMatchObject({
      QueueResult: "redirected-from-bridged",
      CallStatus: "in-progress",
      CallSid: callSid,
    });
  });

  it("goes on as dequeued when an agent claimed it and died before taking it out of the list; hanging up ends that bridge", async () => {
    const callSid = "CA0000000000000000000000000000b003";
    const agentSid = "CA0000000000000000000000000000a003";
    const { store, port, verbContext, inQueue } = await rig(callSid);
    const { accountSid } = stack.engine;
    const verb = verbFor("claimed");

    const caller = verbContext();
    const hangup = new AbortController();
    const running = enqueue.execute(caller.ctx, verb, hangup.signal);
    running.catch(() => {});
    await expect.poll(() => inQueue("claimed")).toEqual([callSid]);
    // The agent's worker notes the caller and claims it, then dies before taking it out of the list.
    const queueSid = (await store.byName(accountSid, "claimed"))?.sid ?? "";
    await claimAndDie(store, queueSid, agentSid, callSid);
    // The caller goes on as dequeued (the agent's Dial, run again, goes on with it), and takes itself
    // out of the list.
    const agent = port(agentSid);
    await expect.poll(async () => (await agent.bridge(callSid))?.state).toBe("bridged");
    expect(await inQueue("claimed")).toEqual([]);
    hangup.abort(new Error("the caller hung up"));
    await expect(running).rejects.toThrow("hung up");
    // Ended, so that the agent does not wait for it.
    await expect.poll(async () => (await agent.bridge(callSid))?.state).toBe("ended");
    await expect.poll(() => caller.callbacks.length).toBe(1);
    expect(caller.callbacks[0]?.params).toMatchObject({ QueueResult: "bridged", CallSid: callSid });
  });

  it("goes on as dequeued, without its wait music, when its call moved while an agent claimed it and died before taking it out of the list", async () => {
    const callSid = "CA0000000000000000000000000000b004";
    const agentSid = "CA0000000000000000000000000000a004";
    const { store, port, verbContext, inQueue } = await rig(callSid);
    const { accountSid } = stack.engine;
    const verb = verbFor("claimed-moved");

    const first = verbContext();
    const moving = new AbortController();
    const running = enqueue.execute(first.ctx, verb, moving.signal);
    await expect.poll(() => inQueue("claimed-moved")).toEqual([callSid]);
    moving.abort(new CallHandedOver("moved"));
    await expect(running).rejects.toThrow("moved");
    const queueSid = (await store.byName(accountSid, "claimed-moved"))?.sid ?? "";
    await claimAndDie(store, queueSid, agentSid, callSid);

    const resumed = verbContext();
    const over = new AbortController();
    const again = enqueue.execute(resumed.ctx, verb, over.signal);
    again.catch(() => {});
    try {
      const agent = port(agentSid);
      await expect.poll(async () => (await agent.bridge(callSid))?.state).toBe("bridged");
      await agent.setBridge(callSid, "ended");
      await expect(again).resolves.toMatchObject({
        kind: "fetch",
        params: { QueueResult: "bridged", DequeuingCallSid: agentSid },
      });
      expect(resumed.fetched).toEqual([]);
    } finally {
      over.abort(new Error("the test is over"));
    }
  });

  it("goes on with its bridge when an agent dequeued it while its call moved: it does not queue again", async () => {
    const callSid = "CA0000000000000000000000000000b002";
    const agentSid = "CA0000000000000000000000000000a002";
    const { port, verbContext, inQueue } = await rig(callSid);
    const verb = verbFor("handover-bridge");

    const first = verbContext();
    const moving = new AbortController();
    const running = enqueue.execute(first.ctx, verb, moving.signal);
    await expect.poll(() => inQueue("handover-bridge")).toEqual([callSid]);
    moving.abort(new CallHandedOver("moved"));
    await expect(running).rejects.toThrow("moved");
    // An agent takes the caller while its call is between workers.
    const agent = port(agentSid);
    expect(await agent.dequeue("handover-bridge")).toMatchObject({ kind: "dequeued" });

    const resumed = verbContext();
    const again = enqueue.execute(resumed.ctx, verb, new AbortController().signal);
    await expect.poll(async () => (await agent.bridge(callSid))?.state).toBe("bridged");
    expect(await inQueue("handover-bridge")).toEqual([]);
    await agent.setBridge(callSid, "ended");
    await expect(again).resolves.toMatchObject({
      kind: "fetch",
      params: { QueueResult: "bridged", DequeuingCallSid: agentSid },
    });
  });
});
