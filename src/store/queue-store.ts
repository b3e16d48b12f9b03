// A region's queues in `sb_queues_<r>` (model/rooms.ts): created by name on first use (or by REST),
// joined, left and dequeued with compare-and-set, each change announced on the queue's subject.
// How a member left (`b.`) and what a `<Dial><Queue>` took (`d.`) live no longer than their calls:
// they are kept in the region's bucket with an expiry (`sb_conferences_<r>`, 24 h), not beside the
// queues, which last until deleted. Shared by the region's workers (the calls) and the api (REST).
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type BridgeRecord,
  bridgeKey,
  DEFAULT_QUEUE_SIZE,
  type DialerRecord,
  dialerKey,
  isOfStay,
  type MemberRecord,
  type NameRecord,
  nameKey,
  type QueueRecord,
  queueKey,
} from "../model/rooms.js";
import { newSid } from "../model/sid.js";
import type { Subjects } from "../protocol/subjects.js";
import { deleteAt, listKeysOf, mutate, readVersioned } from "./cas-kv.js";

export class QueueStore {
  constructor(
    /** The queues and their names (`sb_queues_<r>`). */
    readonly kv: KV,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly region: string,
    /** Bridge and dequeuer records: a bucket whose entries expire (`sb_conferences_<r>`). */
    readonly bridges: KV,
  ) {}

  subject(queueSid: string): string {
    return this.subjects.queueEvents(this.region, queueSid);
  }

  async get(accountSid: string, sid: string): Promise<QueueRecord | undefined> {
    return (await readVersioned<QueueRecord>(this.kv, queueKey(accountSid, sid))).value;
  }

  async byName(accountSid: string, friendlyName: string): Promise<QueueRecord | undefined> {
    const index = await readVersioned<NameRecord>(this.kv, nameKey(accountSid, friendlyName));
    return index.value && this.get(accountSid, index.value.sid);
  }

  async list(accountSid: string): Promise<QueueRecord[]> {
    const keys = await listKeysOf(this.kv, `q.${accountSid}.>`);
    const queues = await Promise.all(keys.map((k) => readVersioned<QueueRecord>(this.kv, k)));
    return queues.flatMap((q) => (q.value ? [q.value] : [])).sort((a, b) => a.dateCreated - b.dateCreated);
  }

  /** The queue with this name, created (with `maxSize`) when there is none; `created` says which. */
  async open(
    accountSid: string,
    friendlyName: string,
    maxSize = DEFAULT_QUEUE_SIZE,
  ): Promise<{ queue: QueueRecord; created: boolean }> {
    const indexKey = nameKey(accountSid, friendlyName);
    for (;;) {
      const index = await readVersioned<NameRecord>(this.kv, indexKey);
      const existing = index.value && (await this.get(accountSid, index.value.sid));
      if (existing) return { queue: existing, created: false };
      const now = Date.now();
      const queue: QueueRecord = {
        sid: newSid("QU"),
        accountSid,
        friendlyName,
        maxSize,
        dateCreated: now,
        dateUpdated: now,
        members: [],
      };
      await this.kv.create(queueKey(accountSid, queue.sid), JSON.stringify(queue));
      const named = await mutate<NameRecord, boolean>(this.kv, indexKey, (current) =>
        current?.sid === index.value?.sid
          ? { value: { sid: queue.sid }, result: true }
          : { value: undefined, result: false },
      );
      if (named.result) return { queue, created: true };
      // Another caller named a queue first: ours was never seen by anyone.
      await this.kv.delete(queueKey(accountSid, queue.sid));
    }
  }

  /** Puts the call at the back of the queue, unless the queue is full. */
  async enqueue(
    accountSid: string,
    friendlyName: string,
    callSid: string,
    maxSize?: number,
  ): Promise<{ kind: "enqueued" | "full"; queue: QueueRecord }> {
    const { queue } = await this.open(accountSid, friendlyName, maxSize);
    const member: MemberRecord = { callSid, enqueuedAt: Date.now() };
    const out = await mutate<QueueRecord, "enqueued" | "full">(
      this.kv,
      queueKey(accountSid, queue.sid),
      (q) => {
        if (!q) return { value: undefined, result: "full" };
        if (q.members.some((m) => m.callSid === callSid)) return { value: undefined, result: "enqueued" };
        if (q.members.length >= q.maxSize) return { value: undefined, result: "full" };
        return {
          value: { ...q, members: [...q.members, member], dateUpdated: Date.now() },
          result: "enqueued",
        };
      },
    );
    if (out.result === "enqueued") this.#announce(queue.sid);
    return { kind: out.result, queue: out.value ?? queue };
  }

  /**
   * Takes the call out of the queue; false when it was not waiting there (dequeued already). With
   * `enqueuedAt`, only that stay: a dequeuer late to take out a member it met must not take out the
   * member's next stay in the same queue.
   */
  async remove(accountSid: string, queueSid: string, callSid: string, enqueuedAt?: number): Promise<boolean> {
    const isIt = (m: MemberRecord) =>
      m.callSid === callSid && (enqueuedAt === undefined || m.enqueuedAt === enqueuedAt);
    const out = await mutate<QueueRecord, boolean>(this.kv, queueKey(accountSid, queueSid), (q) => {
      if (!q?.members.some(isIt)) return { value: undefined, result: false };
      const members = q.members.filter((m) => !isIt(m));
      return { value: { ...q, members, dateUpdated: Date.now() }, result: true };
    });
    if (out.result) this.#announce(queueSid);
    return out.result;
  }

  /**
   * Takes a member out (the front one, or the one with `callSid`) and records how it leaves: bridged
   * to a dequeuing call, or redirected by REST. Undefined when there is no such member. A `<Dial>`
   * names its `step`, so that it finds this member again when it runs again (`dialerBridge`).
   *
   * In this order, so that a dequeuer that dies at any point loses no member: (1) a Dial notes the
   * member it is about to take (`d.`); (2) the member's bridge record is claimed (`b.`, compare-and-
   * set on this stay in the queue: one dequeuer wins, and none after the member left: `endStay`);
   * (3) the member is taken out of the queue's list. Died before (2), the member is still free and
   * first in line. Died after it, the member has gone on as dequeued (it waits on its `b.` record,
   * not on the list), the Dial run again finds it by (1), and whoever meets it still listed takes it
   * out.
   */
  async dequeue(
    accountSid: string,
    queueSid: string,
    which: "front" | string,
    how: Pick<BridgeRecord, "by" | "url" | "method" | "redirect">,
    step?: string,
  ): Promise<BridgeRecord | undefined> {
    for (;;) {
      const q = await this.get(accountSid, queueSid);
      const member = which === "front" ? q?.members[0] : q?.members.find((m) => m.callSid === which);
      if (!member) return undefined;
      const bridge: BridgeRecord = {
        queueSid,
        member: member.callSid,
        enqueuedAt: member.enqueuedAt,
        state: "dequeued",
        ...how,
      };
      // Before the claim: once claimed, the note is how the Dial run again finds its member.
      if (step !== undefined) await this.noteDialer(how.by, step, dialerRecord(bridge));
      const claim = await mutate<BridgeRecord, boolean>(this.bridges, bridgeKey(member.callSid), (b) =>
        isOfStay(b, queueSid, member) ? { value: undefined, result: false } : { value: bridge, result: true },
      );
      if (claim.result) {
        // The member waits on its bridge record, read again on each of the queue's events: told at
        // once, it goes on even if this process dies before its next write.
        this.#announce(queueSid);
        // Taken: a list still naming it is tidied by the Dial run again, or the next dequeuer.
        await this.remove(accountSid, queueSid, member.callSid, member.enqueuedAt).catch(() => {});
        return bridge;
      }
      // Claimed by another dequeuer (that may have died before taking it out), or gone: out of the
      // list, and the next one.
      await this.remove(accountSid, queueSid, member.callSid, member.enqueuedAt);
      if (which !== "front") return undefined;
    }
  }

  /** What the `<Dial>` of `dialerCallSid` at `step` dequeued, written by that Dial alone. */
  async noteDialer(dialerCallSid: string, step: string, record: DialerRecord): Promise<void> {
    await this.bridges.put(dialerKey(dialerCallSid, step), JSON.stringify(record));
  }

  /**
   * The member the `<Dial>` of `dialerCallSid` at `step` dequeued, while that bridge is still its
   * own: what a Dial run again (after a worker's death or a hand-over) goes on with, or ends with
   * when the member left meanwhile (`ended`).
   */
  async dialerBridge(
    dialerCallSid: string,
    step: string,
  ): Promise<{ bridge: BridgeRecord; bridgedAt?: number } | undefined> {
    const dialer = (await readVersioned<DialerRecord>(this.bridges, dialerKey(dialerCallSid, step))).value;
    if (!dialer) return undefined;
    const bridge = await this.bridge(dialer.member);
    if (bridge?.by === dialerCallSid) {
      return { bridge, ...(dialer.bridgedAt !== undefined && { bridgedAt: dialer.bridgedAt }) };
    }
    // The member's record has moved on (a later stay in a queue, or it expired): a bridge this Dial
    // began is over.
    const { queueSid, enqueuedAt, bridgedAt } = dialer;
    if (bridgedAt === undefined || queueSid === undefined || enqueuedAt === undefined) return undefined;
    const over: BridgeRecord = {
      queueSid,
      member: dialer.member,
      enqueuedAt,
      by: dialerCallSid,
      state: "ended",
    };
    return { bridge: over, bridgedAt };
  }

  async bridge(memberCallSid: string): Promise<BridgeRecord | undefined> {
    return (await readVersioned<BridgeRecord>(this.bridges, bridgeKey(memberCallSid))).value;
  }

  /** Moves a bridge on (dequeued → bridged → ended); never back. Returns the bridge as it now is. */
  async setBridge(
    memberCallSid: string,
    state: "bridged" | "ended",
    endedBy?: string,
  ): Promise<BridgeRecord | undefined> {
    const order = { dequeued: 0, bridged: 1, ended: 2 };
    const out = await mutate<BridgeRecord, undefined>(this.bridges, bridgeKey(memberCallSid), (b) => {
      if (!b || order[b.state] >= order[state]) return { value: undefined, result: undefined };
      return { value: { ...b, state, ...(endedBy && { endedBy }) }, result: undefined };
    });
    if (out.value) this.#announce(out.value.queueSid);
    return out.value;
  }

  /** REST update: a new MaxSize (or FriendlyName). */
  async update(
    accountSid: string,
    sid: string,
    change: { maxSize?: number; friendlyName?: string },
  ): Promise<QueueRecord | undefined> {
    const out = await mutate<QueueRecord, undefined>(this.kv, queueKey(accountSid, sid), (q) =>
      q
        ? { value: { ...q, ...change, dateUpdated: Date.now() }, result: undefined }
        : { value: undefined, result: undefined },
    );
    if (out.value && change.friendlyName !== undefined) {
      await this.kv.put(nameKey(accountSid, change.friendlyName), JSON.stringify({ sid }));
    }
    return out.value;
  }

  /** REST delete; false when the queue does not exist. */
  async delete(accountSid: string, sid: string): Promise<boolean> {
    const current = await readVersioned<QueueRecord>(this.kv, queueKey(accountSid, sid));
    if (!current.value) return false;
    if (!(await deleteAt(this.kv, queueKey(accountSid, sid), current.revision))) return false;
    const index = await readVersioned<NameRecord>(this.kv, nameKey(accountSid, current.value.friendlyName));
    if (index.value?.sid === sid)
      await deleteAt(this.kv, nameKey(accountSid, current.value.friendlyName), index.revision);
    this.#announce(sid);
    return true;
  }

  /**
   * Takes a member that a dequeuer claimed out of the list, if that stay is still there (the dequeuer
   * died before it could): what the Dial run again does when it goes on with the member.
   */
  async settle(accountSid: string, bridge: BridgeRecord): Promise<void> {
    if (bridge.state !== "ended") {
      await this.remove(accountSid, bridge.queueSid, bridge.member, bridge.enqueuedAt);
    }
  }

  /**
   * The member's stay is over (it hung up, left, or was redirected): a claim on it is ended, so its
   * dequeuer takes the next caller, or, with none, the stay is marked ended, so that a dequeuer that
   * read the list before the member left cannot claim it after. Returns the claim as it was.
   */
  async endStay(queueSid: string, member: MemberRecord): Promise<BridgeRecord | undefined> {
    const out = await mutate<BridgeRecord, BridgeRecord | undefined>(
      this.bridges,
      bridgeKey(member.callSid),
      (b) => {
        if (!isOfStay(b, queueSid, member)) {
          const over: BridgeRecord = {
            queueSid,
            member: member.callSid,
            enqueuedAt: member.enqueuedAt,
            by: "",
            state: "ended",
            endedBy: member.callSid,
          };
          return { value: over, result: undefined };
        }
        if (b.state === "ended") return { value: undefined, result: b };
        return { value: { ...b, state: "ended", endedBy: member.callSid }, result: b };
      },
    );
    if (out.result && out.result.state !== "ended") this.#announce(queueSid);
    return out.result;
  }

  #announce(queueSid: string): void {
    this.nc.publish(this.subject(queueSid));
  }
}

/** What a Dial notes of the member it takes (`d.`), from that member's bridge. */
export function dialerRecord(bridge: BridgeRecord, bridgedAt?: number): DialerRecord {
  const { member, queueSid, enqueuedAt } = bridge;
  return { member, queueSid, enqueuedAt, ...(bridgedAt !== undefined && { bridgedAt }) };
}
