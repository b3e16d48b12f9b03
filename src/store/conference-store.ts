// A region's conferences in `sb_conferences_<r>` (model/rooms.ts): one live conference per account and
// FriendlyName (the name index points at it), joined and left with compare-and-set, each change
// announced on the conference's subject. A change returns the status-callback events it caused, each
// with the conference's next SequenceNumber, for the call that made it to send.
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { nextConferenceStatus } from "../../machines/conference.machine.js";
import {
  type ConferenceEndReason,
  type ConferenceEvent,
  type ConferenceRecord,
  type ConferenceStatusCallback,
  conferenceKey,
  type JoinResult,
  type NameRecord,
  nameKey,
  type ParticipantRecord,
} from "../model/rooms.js";
import { newSid } from "../model/sid.js";
import type { Subjects } from "../protocol/subjects.js";
import { deleteAt, listKeysOf, mutate, readVersioned } from "./cas-kv.js";

export interface JoinRequest {
  accountSid: string;
  friendlyName: string;
  participant: ParticipantRecord;
  maxParticipants: number;
  statusCallback?: ConferenceStatusCallback;
}

export class ConferenceStore {
  constructor(
    readonly kv: KV,
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    readonly region: string,
  ) {}

  subject(conferenceSid: string): string {
    return this.subjects.conferenceEvents(this.region, conferenceSid);
  }

  async get(accountSid: string, sid: string): Promise<ConferenceRecord | undefined> {
    return (await readVersioned<ConferenceRecord>(this.kv, conferenceKey(accountSid, sid))).value;
  }

  async list(accountSid: string): Promise<ConferenceRecord[]> {
    const keys = await listKeysOf(this.kv, `c.${accountSid}.>`);
    const all = await Promise.all(keys.map((k) => readVersioned<ConferenceRecord>(this.kv, k)));
    return all.flatMap((c) => (c.value ? [c.value] : [])).sort((a, b) => b.dateCreated - a.dateCreated);
  }

  /** Joins the live conference of that name, creating it (status init) when there is none. */
  async join(request: JoinRequest): Promise<JoinResult> {
    const { accountSid, participant } = request;
    for (;;) {
      const conference = await this.#live(request);
      const out = await mutate<ConferenceRecord, JoinResult | "ended">(
        this.kv,
        conferenceKey(accountSid, conference.sid),
        (c) => {
          if (!c || c.status === "completed") return { value: undefined, result: "ended" };
          const already = c.participants.find((p) => p.callSid === participant.callSid);
          if (already) return { value: undefined, result: { kind: "joined", conference: c, events: [] } };
          if (c.participants.length >= c.maxParticipants)
            return { value: undefined, result: { kind: "full", conference: c } };
          if (participant.label !== undefined && c.participants.some((p) => p.label === participant.label))
            return { value: undefined, result: { kind: "label-taken", conference: c } };
          const now = participant.joinedAt;
          const events = new EventList(c);
          events.add({ event: "participant-join", at: now, participant });
          const present = [...c.participants, participant];
          const status = nextConferenceStatus(c.status, {
            type: "participant.joined",
            starts: present.some((p) => p.startConferenceOnEnter),
            present: present.length,
          });
          if (status !== c.status) events.add({ event: "conference-start", at: now });
          const next: ConferenceRecord = {
            ...c,
            status,
            participants: [...c.participants, participant],
            sequence: events.sequence,
            dateUpdated: now,
          };
          return { value: next, result: { kind: "joined", conference: next, events: events.list } };
        },
      );
      if (out.result === "ended") continue; // it ended between our reads: join (or make) the next one
      if (out.result.kind === "joined") this.#announce(conference.sid);
      return out.result;
    }
  }

  /**
   * Takes the call out of the conference. The conference ends when the call had endConferenceOnExit
   * or was the last one in it; then every other participant leaves too, and `conference-end` follows.
   */
  async leave(
    accountSid: string,
    sid: string,
    callSid: string,
    /** Removed by REST, not by its own hang-up. */
    kicked = false,
  ): Promise<{ conference: ConferenceRecord | undefined; events: ConferenceEvent[] }> {
    const key = conferenceKey(accountSid, sid);
    const out = await mutate<ConferenceRecord, ConferenceEvent[] | undefined>(this.kv, key, (c) => {
      const me = c?.participants.find((p) => p.callSid === callSid);
      if (!c || !me) return { value: undefined, result: undefined };
      const now = Date.now();
      const events = new EventList(c);
      events.add({ event: "participant-leave", at: now, participant: me });
      const rest = c.participants.filter((p) => p !== me);
      const status = nextConferenceStatus(c.status, {
        type: "participant.left",
        ends: me.endConferenceOnExit,
        remaining: rest.length,
      });
      const reason: ConferenceEndReason | undefined =
        status !== "completed"
          ? undefined
          : me.endConferenceOnExit
            ? kicked
              ? "participant-with-end-conference-on-exit-kicked"
              : "participant-with-end-conference-on-exit-left"
            : rest.length === 0
              ? kicked
                ? "last-participant-kicked"
                : "last-participant-left"
              : undefined;
      if (!reason) {
        const next = { ...c, participants: rest, sequence: events.sequence, dateUpdated: now };
        return { value: next, result: events.list };
      }
      for (const p of rest) events.add({ event: "participant-leave", at: now, participant: p });
      events.add({ event: "conference-end", at: now, reason, callSidEnding: callSid });
      const ended: ConferenceRecord = {
        ...c,
        status: "completed",
        participants: [],
        sequence: events.sequence,
        dateUpdated: now,
        reasonEnded: reason,
        callSidEnding: callSid,
      };
      return { value: ended, result: events.list };
    });
    if (out.result) {
      if (out.value?.status === "completed") await this.#unname(out.value);
      this.#announce(sid);
    }
    return { conference: out.value, events: out.result ?? [] };
  }

  /** REST `Status=completed`: every participant leaves and the conference ends. */
  async end(
    accountSid: string,
    sid: string,
  ): Promise<{ conference: ConferenceRecord | undefined; events: ConferenceEvent[] }> {
    const out = await mutate<ConferenceRecord, ConferenceEvent[] | undefined>(
      this.kv,
      conferenceKey(accountSid, sid),
      (c) => {
        if (!c || c.status === "completed") return { value: undefined, result: undefined };
        const now = Date.now();
        const events = new EventList(c);
        for (const p of c.participants) events.add({ event: "participant-leave", at: now, participant: p });
        const reason: ConferenceEndReason = "conference-ended-via-api";
        events.add({ event: "conference-end", at: now, reason });
        const ended: ConferenceRecord = {
          ...c,
          status: "completed",
          participants: [],
          sequence: events.sequence,
          dateUpdated: now,
          reasonEnded: reason,
        };
        return { value: ended, result: events.list };
      },
    );
    if (out.result && out.value) {
      await this.#unname(out.value);
      this.#announce(sid);
    }
    return { conference: out.value, events: out.result ?? [] };
  }

  /** REST: mutes or holds a participant (or lets them go); undefined when it is not in the conference. */
  async setParticipant(
    accountSid: string,
    sid: string,
    callSid: string,
    change: { muted?: boolean; hold?: boolean; holdUrl?: string; holdMethod?: "GET" | "POST" },
  ): Promise<{ conference: ConferenceRecord; events: ConferenceEvent[] } | undefined> {
    const out = await mutate<ConferenceRecord, ConferenceEvent[] | undefined>(
      this.kv,
      conferenceKey(accountSid, sid),
      (c) => {
        const me = c?.participants.find((p) => p.callSid === callSid);
        if (!c || !me || c.status === "completed") return { value: undefined, result: undefined };
        const now = Date.now();
        const next: ParticipantRecord = { ...me, ...change };
        const events = new EventList(c);
        if (next.muted !== me.muted)
          events.add({
            event: next.muted ? "participant-mute" : "participant-unmute",
            at: now,
            participant: next,
          });
        if (next.hold !== me.hold)
          events.add({
            event: next.hold ? "participant-hold" : "participant-unhold",
            at: now,
            participant: next,
          });
        const participants = c.participants.map((p) => (p === me ? next : p));
        return {
          value: { ...c, participants, sequence: events.sequence, dateUpdated: now },
          result: events.list,
        };
      },
    );
    if (!out.result || !out.value) return undefined;
    this.#announce(sid);
    return { conference: out.value, events: out.result };
  }

  /** The live conference of the request's name, made (status init) when there is none. */
  async #live(request: JoinRequest): Promise<ConferenceRecord> {
    const { accountSid, friendlyName } = request;
    const indexKey = nameKey(accountSid, friendlyName);
    for (;;) {
      const index = await readVersioned<NameRecord>(this.kv, indexKey);
      const current = index.value && (await this.get(accountSid, index.value.sid));
      if (current && current.status !== "completed") return current;
      const now = Date.now();
      const made: ConferenceRecord = {
        sid: newSid("CF"),
        accountSid,
        friendlyName,
        region: this.region,
        status: "init",
        dateCreated: now,
        dateUpdated: now,
        maxParticipants: request.maxParticipants,
        ...(request.statusCallback && { statusCallback: request.statusCallback }),
        sequence: 0,
        participants: [],
      };
      await this.kv.create(conferenceKey(accountSid, made.sid), JSON.stringify(made));
      const named = await mutate<NameRecord, boolean>(this.kv, indexKey, (n) =>
        n?.sid === index.value?.sid
          ? { value: { sid: made.sid }, result: true }
          : { value: undefined, result: false },
      );
      if (named.result) return made;
      // Another call made the conference first: ours was never seen; join theirs.
      await this.kv.delete(conferenceKey(accountSid, made.sid));
    }
  }

  /** A completed conference gives its name back, unless a newer one took it already. */
  async #unname(conference: ConferenceRecord): Promise<void> {
    const key = nameKey(conference.accountSid, conference.friendlyName);
    const index = await readVersioned<NameRecord>(this.kv, key);
    if (index.value?.sid === conference.sid) await deleteAt(this.kv, key, index.revision);
  }

  #announce(sid: string): void {
    this.nc.publish(this.subject(sid));
  }
}

/**
 * The events one change causes, numbered as the conference's statusCallback receives them: only the
 * events it asked for take a SequenceNumber, so the app sees 1, 2, 3… with no gaps.
 */
class EventList {
  readonly list: ConferenceEvent[] = [];
  sequence: number;

  constructor(private readonly conference: ConferenceRecord) {
    this.sequence = conference.sequence;
  }

  add(event: Omit<ConferenceEvent, "sequence">): void {
    if (!this.conference.statusCallback?.events.includes(event.event)) return;
    this.list.push({ ...event, sequence: ++this.sequence });
  }
}
