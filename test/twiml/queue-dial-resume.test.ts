// A <Dial><Queue> run again on another worker (its call was resumed), against a real queue store on
// a real nats-server: it ends with the member it had when that member left while no worker ran it,
// and a Dial cancelled while it reads what it had takes no member out of the queue.
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subjects } from "../../src/protocol/subjects.js";
import { queuePort } from "../../src/region/rooms/queues.js";
import { QueueStore } from "../../src/store/queue-store.js";
import type { VerbContext } from "../../src/twiml/verb-context.js";
import { queueNoun } from "../../src/twiml/verbs/dial/queue.js";
import { dyingAfter } from "../helpers/dying-kv.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";
import { DIAL_DEFAULTS, fakeContext } from "./fakes.js";

const MEMBER = "CA0000000000000000000000000000000a";
const STEP = "1.0";
const OPTIONS = DIAL_DEFAULTS;
const noClock = { holding: <T>(w: () => Promise<T>) => w(), pacing: <T>(w: () => Promise<T>) => w() };

let nats: NatsServer;
let nc: NatsConnection;
let store: QueueStore;

beforeAll(async () => {
  nats = await startTestNatsServer();
  nc = await connect({ servers: nats.url });
  const kvm = new Kvm(nc);
  store = new QueueStore(
    await kvm.create("queue_dial_resume", { history: 1 }),
    nc,
    subjects(),
    "us1",
    await kvm.create("queue_dial_resume_bridges", { history: 1 }),
  );
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** The dialing call's context, at its Dial's step, with the real queue store behind it. */
function dialer(name: string) {
  const fake = fakeContext();
  const call = { ...fake.ctx.call, callSid: `CA${name.padStart(32, "0")}` };
  const queues = queuePort(store, nc, noClock, call);
  const ctx: VerbContext = { ...fake.ctx, call, queues, step: STEP };
  return { ctx, clock: fake.clock, queues };
}

/** The Dial's `<Queue>` noun for the queue named `queue`, as the call at `ctx` runs it. */
const dialQueue = (ctx: VerbContext, queue: string, signal: AbortSignal) =>
  queueNoun.dial(ctx, { noun: "Queue", name: queue, method: "POST" }, OPTIONS, signal);

describe("a <Dial><Queue> run again after its call was resumed", () => {
  // A dequeue writes three times: the Dial's note of the member, the member's bridge record, the
  // queue's list. Its worker dying before any of them, or after each, loses no member.
  it.each([0, 1, 2, 3])(
    "goes on with the member its first run was taking, whichever write that run died at (after %i)",
    async (writes) => {
      const { ctx } = dialer(`d${writes}`);
      const { accountSid, callSid } = ctx.call;
      const queue = `q-${writes}-${Date.now()}`;
      const member = `CA${`e${writes}`.padStart(32, "0")}`;
      const { queue: q } = await store.enqueue(accountSid, queue, member);
      const dying = dyingAfter(writes);
      const firstRun = new QueueStore(dying(store.kv), nc, subjects(), "us1", dying(store.bridges));
      await firstRun.dequeue(accountSid, q.sid, "front", { by: callSid }, STEP).catch(() => {});

      const hungUp = new AbortController();
      const dialing = dialQueue(ctx, queue, hungUp.signal);
      dialing.catch(() => {});
      try {
        // The member is this Dial's, and out of the list; then it talks, and hangs up.
        await expect.poll(async () => (await store.bridge(member))?.by, { timeout: 3_000 }).toBe(callSid);
        await expect.poll(async () => (await store.get(accountSid, q.sid))?.members).toEqual([]);
        await store.setBridge(member, "bridged");
        await store.setBridge(member, "ended", member);
        expect(await dialing).toMatchObject({ status: "completed", callSid: member, bridged: true });
      } finally {
        hungUp.abort(new Error("the test is over"));
      }
    },
  );

  it.each([
    ["ending the bridge", false],
    ["then queued again and hung up there (its bridge record moved on)", true],
  ])(
    "ends completed with its member, counted from the bridge, when the member left meanwhile: %s",
    async (_, queuedAgain) => {
      const { ctx, clock, queues } = dialer(queuedAgain ? "b3" : "b1");
      const queue = `q-${Date.now()}`;
      await store.enqueue(ctx.call.accountSid, queue, MEMBER);
      // What the first run left: the member dequeued and bridged 7 s into the call; then the member
      // hung up (ending the bridge) while no worker ran the Dial.
      const taken = await queues.dequeue(queue, undefined, STEP);
      if (taken.kind !== "dequeued") throw new Error("nobody to take");
      await store.setBridge(MEMBER, "bridged");
      clock.advance(7_000);
      await queues.noteBridged(STEP, taken.bridge, 0);
      clock.advance(5_000);
      await store.setBridge(MEMBER, "ended", MEMBER);
      if (queuedAgain) {
        // A stay is told apart by the millisecond it began.
        await new Promise((r) => setTimeout(r, 2));
        const { queue: q } = await store.enqueue(ctx.call.accountSid, queue, MEMBER);
        const stay = q.members.find((m) => m.callSid === MEMBER);
        if (!stay) throw new Error("not queued again");
        await store.remove(ctx.call.accountSid, q.sid, MEMBER);
        await store.endStay(q.sid, stay);
        expect((await store.bridge(MEMBER))?.by).toBe("");
      }
      const result = await dialQueue(ctx, queue, new AbortController().signal);
      expect(result).toMatchObject({ status: "completed", callSid: MEMBER, durationS: 12, bridged: true });
    },
  );

  it("takes no member out of the queue when it is cancelled while it reads what it had", async () => {
    const { ctx } = dialer("b2");
    const queue = `q-${Date.now()}`;
    const waiting = `CA${"c".padStart(32, "0")}`;
    const joined = await store.enqueue(ctx.call.accountSid, queue, waiting);
    const hungUp = new AbortController();
    const dialing = dialQueue(ctx, queue, hungUp.signal);
    hungUp.abort(new Error("the caller hung up"));
    await expect(dialing).rejects.toThrow("the caller hung up");
    const q = await store.get(ctx.call.accountSid, joined.queue.sid);
    expect(q?.members.map((m) => m.callSid)).toEqual([waiting]);
  });
});
