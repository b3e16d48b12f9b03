// The conference and queue stores under contention: many callers on separate connections (as on
// separate workers) joining, leaving and dequeuing at once, against a real nats-server.
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParticipantRecord } from "../../src/model/rooms.js";
import { subjects } from "../../src/protocol/subjects.js";
import { ConferenceStore } from "../../src/store/conference-store.js";
import { QueueStore } from "../../src/store/queue-store.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";

const ACCOUNT = "AC00000000000000000000000000000001";
const WORKERS = 4;
/** As many callers as join one conference at once: over 50, so some retry many times. */
const JOINERS = 80;
let nats: NatsServer;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  nats = await startTestNatsServer();
  for (let i = 0; i < WORKERS; i++) connections.push(await connect({ servers: nats.url }));
  await new Kvm(connections[0] as NatsConnection).create("rooms_test", { history: 1 });
});

afterAll(async () => {
  for (const nc of connections) await nc.close();
  await nats?.stop();
});

/** One store per connection, all on the same bucket: what the region's workers share. */
async function stores<T>(
  make: (kv: Awaited<ReturnType<Kvm["open"]>>, nc: NatsConnection) => T,
): Promise<T[]> {
  return Promise.all(connections.map(async (nc) => make(await new Kvm(nc).open("rooms_test"), nc)));
}

const sid = (i: number) => `CA${i.toString(16).padStart(32, "0")}`;
const participant = (i: number): ParticipantRecord => ({
  callSid: sid(i),
  muted: false,
  hold: false,
  coaching: false,
  startConferenceOnEnter: true,
  endConferenceOnExit: false,
  joinedAt: Date.now(),
});

describe("the conference store", () => {
  it("puts every one of many simultaneous joiners into one conference, numbering each event once", async () => {
    const workers = await stores((kv, nc) => new ConferenceStore(kv, nc, subjects(), "us1"));
    const joins = await Promise.all(
      Array.from({ length: JOINERS }, (_, i) =>
        (workers[i % WORKERS] as ConferenceStore).join({
          accountSid: ACCOUNT,
          friendlyName: "busy room",
          participant: participant(i),
          maxParticipants: 250,
          statusCallback: {
            url: "https://a.example/cb",
            method: "POST",
            events: ["participant-join", "conference-start"],
          },
        }),
      ),
    );
    const sids = new Set(joins.map((j) => j.conference.sid));
    expect(sids.size).toBe(1);
    const conference = await (workers[0] as ConferenceStore).get(ACCOUNT, [...sids][0] ?? "");
    expect(conference?.participants.map((p) => p.callSid).sort()).toEqual(
      Array.from({ length: JOINERS }, (_, i) => sid(i)).sort(),
    );
    const sequences = joins.flatMap((j) => (j.kind === "joined" ? j.events.map((e) => e.sequence) : []));
    // Every join and the one start: 1…JOINERS+1, each given out once.
    expect(sequences.sort((a, b) => a - b)).toEqual(Array.from({ length: JOINERS + 1 }, (_, i) => i + 1));
    expect((await (workers[1] as ConferenceStore).list(ACCOUNT)).length).toBe(1);

    const leaves = await Promise.all(
      Array.from({ length: JOINERS }, (_, i) =>
        (workers[i % WORKERS] as ConferenceStore).leave(ACCOUNT, [...sids][0] ?? "", sid(i)),
      ),
    );
    const ended = leaves.filter((l) => l.conference?.status === "completed" && l.conference.callSidEnding);
    const after = await (workers[2] as ConferenceStore).get(ACCOUNT, [...sids][0] ?? "");
    expect(after).toMatchObject({
      status: "completed",
      participants: [],
      reasonEnded: "last-participant-left",
    });
    expect(ended.length).toBe(1);
    // The name is free again: the next join makes a new conference.
    const next = await (workers[3] as ConferenceStore).join({
      accountSid: ACCOUNT,
      friendlyName: "busy room",
      participant: participant(99),
      maxParticipants: 250,
    });
    expect(next.conference.sid).not.toBe([...sids][0]);
  });
});

describe("the queue store", () => {
  it("hands each member to exactly one of many simultaneous dequeuers, front first", async () => {
    const workers = await stores((kv, nc) => new QueueStore(kv, nc, subjects(), "us1", kv));
    for (let i = 0; i < 10; i++) await (workers[i % WORKERS] as QueueStore).enqueue(ACCOUNT, "line", sid(i));
    const queue = await (workers[0] as QueueStore).byName(ACCOUNT, "line");
    expect(queue?.members.map((m) => m.callSid)).toEqual(Array.from({ length: 10 }, (_, i) => sid(i)));
    const taken = await Promise.all(
      Array.from({ length: 14 }, (_, i) =>
        (workers[i % WORKERS] as QueueStore).dequeue(ACCOUNT, queue?.sid ?? "", "front", {
          by: sid(100 + i),
        }),
      ),
    );
    const members = taken.flatMap((b) => (b ? [b.member] : []));
    expect(members.sort()).toEqual(Array.from({ length: 10 }, (_, i) => sid(i)).sort());
    expect(taken.filter((b) => b === undefined).length).toBe(4);
    expect((await (workers[1] as QueueStore).get(ACCOUNT, queue?.sid ?? ""))?.members).toEqual([]);
  });

  it("creates one queue for many simultaneous first callers, and turns away those over its size", async () => {
    const workers = await stores((kv, nc) => new QueueStore(kv, nc, subjects(), "us1", kv));
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (workers[i % WORKERS] as QueueStore).enqueue(ACCOUNT, "tiny", sid(200 + i), 5),
      ),
    );
    expect(new Set(results.map((r) => r.queue.sid)).size).toBe(1);
    expect(results.filter((r) => r.kind === "enqueued").length).toBe(5);
    expect(results.filter((r) => r.kind === "full").length).toBe(7);
  });

  it("does not take a member that left after the dequeuer read the list: it takes the next", async () => {
    const [store] = await stores((kv, nc) => new QueueStore(kv, nc, subjects(), "us1", kv));
    const q = store as QueueStore;
    const left = sid(300);
    await q.enqueue(ACCOUNT, "race", left);
    const { queue } = await q.enqueue(ACCOUNT, "race", sid(301));
    const read = await q.get(ACCOUNT, queue.sid);
    const stay = read?.members[0];
    if (!stay) throw new Error("no member");
    // The member hangs up: out of the list, and its stay over.
    expect(await q.remove(ACCOUNT, queue.sid, left)).toBe(true);
    await q.endStay(queue.sid, stay);
    // A dequeuer that read the list before that (its first read is the old list).
    class LateReader extends QueueStore {
      stale = true;
      override get(account: string, queueSid: string) {
        if (!this.stale) return super.get(account, queueSid);
        this.stale = false;
        return Promise.resolve(read);
      }
    }
    const late = new LateReader(q.kv, connections[0] as NatsConnection, subjects(), "us1", q.bridges);
    const bridge = await late.dequeue(ACCOUNT, queue.sid, "front", { by: sid(399) });
    expect(bridge?.member).toBe(sid(301));
    expect((await q.bridge(left))?.state).toBe("ended");
  });

  it("takes a member out of the list only for the stay it names", async () => {
    const [store] = await stores((kv, nc) => new QueueStore(kv, nc, subjects(), "us1", kv));
    const q = store as QueueStore;
    const { queue } = await q.enqueue(ACCOUNT, "stays", sid(310));
    const first = (await q.get(ACCOUNT, queue.sid))?.members[0];
    await q.remove(ACCOUNT, queue.sid, sid(310));
    // Back in the same queue before a dequeuer late to take out its first stay does so.
    await new Promise((r) => setTimeout(r, 2));
    await q.enqueue(ACCOUNT, "stays", sid(310));
    expect(await q.remove(ACCOUNT, queue.sid, sid(310), first?.enqueuedAt)).toBe(false);
    expect((await q.get(ACCOUNT, queue.sid))?.members.map((m) => m.callSid)).toEqual([sid(310)]);
  });
});
