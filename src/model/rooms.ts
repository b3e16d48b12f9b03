// What the region's conference and queue buckets hold (`sb_conferences_<r>`, `sb_queues_<r>`), and
// their keys. Written by region workers (the calls in them) and by the api (REST changes); read by
// both. Times are wall-clock ms, since calls on different workers have different call clocks.
import { createHash } from "node:crypto";

export type ConferenceStatus = "init" | "in-progress" | "completed";

export type ConferenceEndReason =
  | "participant-with-end-conference-on-exit-left"
  | "participant-with-end-conference-on-exit-kicked"
  | "last-participant-left"
  | "last-participant-kicked"
  | "conference-ended-via-api";

export interface ParticipantRecord {
  callSid: string;
  label?: string;
  muted: boolean;
  hold: boolean;
  /** What a held participant hears (REST HoldUrl; Twilio's hold music when absent). */
  holdUrl?: string;
  holdMethod?: "GET" | "POST";
  coaching: boolean;
  callSidToCoach?: string;
  startConferenceOnEnter: boolean;
  endConferenceOnExit: boolean;
  /** Its TwiML asked for record="record-from-start": the first such participant still in records the mix. */
  record?: boolean;
  /** When the participant joined (wall clock). */
  joinedAt: number;
}

export interface ConferenceStatusCallback {
  url: string;
  method: "GET" | "POST";
  /** Twilio's event names: conference-start, participant-join, … */
  events: string[];
}

export interface ConferenceRecord {
  sid: string;
  accountSid: string;
  friendlyName: string;
  region: string;
  status: ConferenceStatus;
  dateCreated: number;
  dateUpdated: number;
  maxParticipants: number;
  /** The first participant's statusCallback wins, as on Twilio. */
  statusCallback?: ConferenceStatusCallback;
  /** The last SequenceNumber given to a status callback of this conference. */
  sequence: number;
  participants: ParticipantRecord[];
  reasonEnded?: ConferenceEndReason;
  callSidEnding?: string;
}

export interface MemberRecord {
  callSid: string;
  enqueuedAt: number;
}

export interface QueueRecord {
  sid: string;
  accountSid: string;
  friendlyName: string;
  maxSize: number;
  dateCreated: number;
  dateUpdated: number;
  /** In queue order: the front is first. */
  members: MemberRecord[];
}

/**
 * A member taken out of its queue: by a `<Dial><Queue>` (bridged to `by`) or by REST (redirected to
 * `url`). Written by the dequeuer right after it removed the member from the queue; the member's
 * call watches it and ends it when it leaves, as the dequeuer does.
 */
export interface BridgeRecord {
  queueSid: string;
  member: string;
  enqueuedAt: number;
  /** The dequeuing call, or "" for a REST dequeue. */
  by: string;
  state: "dequeued" | "bridged" | "ended";
  /** TwiML for the dequeued caller: the Queue noun's `url` (before the bridge) or REST's `Url`. */
  url?: string;
  method?: "GET" | "POST";
  /** A REST dequeue: the member's call goes on at `url` instead of being bridged. */
  redirect?: boolean;
  endedBy?: string;
}

/**
 * Which member a `<Dial><Queue>` took, keyed by the dequeuing call and the Dial's step in its
 * documents (`d.<CallSid>.<step>`): the Dial run again after its worker died or handed the call over
 * finds its member here, rather than taking the next caller and leaving this one bridged to no one.
 */
export interface DialerRecord {
  member: string;
  /** The member's stay (its queue and when it joined), to end the bridge with once `b.` moved on. */
  queueSid?: string;
  enqueuedAt?: number;
  /**
   * When the bridge began, on the dequeuing call's clock: its DialCallDuration and timeLimit count
   * from it.
   */
  bridgedAt?: number;
}

export type ConferenceEventName =
  | "conference-start"
  | "conference-end"
  | "participant-join"
  | "participant-leave"
  | "participant-mute"
  | "participant-unmute"
  | "participant-hold"
  | "participant-unhold";

export interface ConferenceEvent {
  readonly event: ConferenceEventName;
  readonly sequence: number;
  /** Wall-clock ms. */
  readonly at: number;
  readonly participant?: ParticipantRecord;
  readonly reason?: ConferenceEndReason;
  readonly callSidEnding?: string;
}

export type JoinResult =
  | { kind: "joined"; conference: ConferenceRecord; events: ConferenceEvent[] }
  | { kind: "full"; conference: ConferenceRecord }
  | { kind: "label-taken"; conference: ConferenceRecord };

/** Twilio's default queue size, and its limit. */
export const DEFAULT_QUEUE_SIZE = 1000;
export const MAX_QUEUE_SIZE = 5000;
export const DEFAULT_MAX_PARTICIPANTS = 250;

/** KV keys allow only [-/_=.a-zA-Z0-9]: a friendly name is keyed by its hash. */
export function nameKey(accountSid: string, friendlyName: string): string {
  return `n.${accountSid}.${createHash("sha256").update(friendlyName).digest("hex").slice(0, 40)}`;
}

export const conferenceKey = (accountSid: string, sid: string) => `c.${accountSid}.${sid}`;
export const queueKey = (accountSid: string, sid: string) => `q.${accountSid}.${sid}`;
export const bridgeKey = (memberCallSid: string) => `b.${memberCallSid}`;
export const dialerKey = (dialerCallSid: string, step: string) => `d.${dialerCallSid}.${step}`;

/** Whether the bridge record `b` is about the member's present stay in the queue (not an earlier one). */
export function isOfStay(
  b: BridgeRecord | undefined,
  queueSid: string,
  member: Pick<MemberRecord, "enqueuedAt">,
): b is BridgeRecord {
  return b?.queueSid === queueSid && b.enqueuedAt === member.enqueuedAt;
}

/** The name index: which conference or queue has this friendly name now. */
export interface NameRecord {
  sid: string;
}

/** Twilio's average_wait_time: the members' mean wait in whole seconds, now. */
export function averageWaitS(queue: QueueRecord, now: number): number {
  if (queue.members.length === 0) return 0;
  const total = queue.members.reduce((sum, m) => sum + Math.max(0, now - m.enqueuedAt), 0);
  return Math.round(total / queue.members.length / 1000);
}
