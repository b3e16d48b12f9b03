// The ports through which <Enqueue>, <Leave> and <Dial>'s Conference and Queue nouns reach a region's
// shared conferences and queues (src/region/rooms/). Each is bound to the call that runs the verb: its
// account, its CallSid, its clock (a change holds the call's clock while it is written; a wait does
// not, so the caller's own time goes on while waiting for others).

import type { HttpMethod } from "../../model/http.js";
import type {
  BridgeRecord,
  ConferenceEvent,
  ConferenceRecord,
  ConferenceStatusCallback,
  JoinResult,
  ParticipantRecord,
  QueueRecord,
} from "../../model/rooms.js";

export interface ConferencePort {
  /** Joins the live conference named `friendlyName`, creating it when there is none. */
  join(request: {
    friendlyName: string;
    participant: Omit<ParticipantRecord, "callSid" | "joinedAt">;
    maxParticipants: number;
    statusCallback?: ConferenceStatusCallback;
  }): Promise<JoinResult>;
  /** Leaves it; ends it when this call had endConferenceOnExit or was the last one in. */
  leave(
    conferenceSid: string,
  ): Promise<{ conference: ConferenceRecord | undefined; events: ConferenceEvent[] }>;
  /** Resolves with the conference once `done` accepts it (read again on every change). */
  waitFor(
    conferenceSid: string,
    done: (conference: ConferenceRecord | undefined) => boolean,
    signal: AbortSignal,
  ): Promise<ConferenceRecord | undefined>;
}

export type DequeueResult =
  | { kind: "missing" }
  | { kind: "empty"; queue: QueueRecord }
  | { kind: "dequeued"; queue: QueueRecord; bridge: BridgeRecord };

export interface QueuePort {
  /** Puts this call at the back of the queue named `friendlyName` (created on first use). */
  enqueue(friendlyName: string, maxSize?: number): Promise<{ kind: "enqueued" | "full"; queue: QueueRecord }>;
  get(queueSid: string): Promise<QueueRecord | undefined>;
  /** Takes this call out of the queue; false when it was dequeued already. */
  remove(queueSid: string): Promise<boolean>;
  /**
   * This call's stay in the queue (since `enqueuedAt`) is over: a dequeuer's claim on it is ended,
   * and none can claim it after. Returns the claim as it was, if there was one.
   */
  endStay(queueSid: string, enqueuedAt: number): Promise<BridgeRecord | undefined>;
  /**
   * Dequeues the front member of the queue named `friendlyName` for this call to bridge to; with the
   * Dial's `step`, noted so that the Dial run again finds the member (`dialerBridge`).
   */
  dequeue(
    friendlyName: string,
    url?: { url: string; method: HttpMethod },
    step?: string,
  ): Promise<DequeueResult>;
  /** The member this call's Dial at `step` dequeued, if any, and how that bridge stands now. */
  dialerBridge(step: string): Promise<{ bridge: BridgeRecord; bridgedAt?: number } | undefined>;
  /** Notes when this call's Dial at `step` was bridged to `member` (its own clock). */
  noteBridged(step: string, bridge: BridgeRecord, at: number): Promise<void>;
  /** How the member `memberCallSid` was dequeued, once it was. */
  bridge(memberCallSid: string): Promise<BridgeRecord | undefined>;
  /** Moves the member's bridge on; `ended` names this call as the one that ended it. */
  setBridge(memberCallSid: string, state: "bridged" | "ended"): Promise<BridgeRecord | undefined>;
  /** Resolves with `read()` once `done` accepts it (read again on every change of the queue). */
  waitFor<T>(
    queueSid: string,
    read: () => Promise<T>,
    done: (state: T) => boolean,
    signal: AbortSignal,
  ): Promise<T>;
}
