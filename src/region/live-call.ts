// One call hosted by this worker: its actor and the per-call things its effects use.
import type { Actor } from "xstate";
import type { CallMachine } from "../../machines/call.machine.js";
import type { CallClock } from "../clock/call-clock.js";
import type { CallJob } from "../model/call-job.js";
import type { Channel } from "../twiml/types.js";
import type { CookieJar } from "../webhook/cookie-jar.js";
import type { ChannelState } from "./simulated-channel.js";
import type { SnapshotWriter } from "./snapshot-writer.js";

export interface LiveCall {
  readonly callSid: string;
  readonly actor: Actor<CallMachine>;
  readonly clock: CallClock;
  readonly channel: HostedChannel;
  /** Cookies the app set, returned on every later request of this call, as a browser would. */
  readonly cookies: CookieJar;
  readonly snapshots: SnapshotWriter;
  /** When the edge accepted the call (wall clock), for date_created. */
  readonly offeredAt: number;
}

/** A call's channel as its host holds it: the port, plus live input and what a resumed call needs. */
export interface HostedChannel extends Channel {
  /** Live input from `.in`: keys and speech for a listening Gather. */
  input(event: { kind: "digits"; digits: string } | { kind: "speech"; text: string }): void;
  state(): ChannelState;
  resumeScript(answeredAt: number | null): void;
}

/**
 * What `sb_actors_<R>` holds under a live call's CallSid: XState's persisted snapshot, plus what a
 * worker needs to resume the call from it (its owner, the job it came from, its clock, its caller).
 */
export type StoredActor = Record<string, unknown> & {
  sb: {
    owner: string;
    job: CallJob;
    /** The call clock's time when stored (simulated time goes on from here on resume). */
    clockAt: number;
    channel: ChannelState;
  };
};
