// What a worker stores of a live call, under its CallSid in `sb_actors_<R>`: enough for another worker
// to resume it (docs/resume.md).
import type { CallJob } from "../../protocol/call-job.js";
import type { SavedCookie } from "../../webhook/cookies.js";
import type { ChannelState } from "../channel/simulated-channel.js";
import type { StoredStream } from "../streams/open-stream.js";
import type { DialLegRef } from "./dial-legs.js";

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
    /** The cookies the app set, when it set any. */
    cookies?: SavedCookie[];
    /** An outbound call's SIP leg: the gateway its audio is on (LiveCall.placedOn). */
    leg?: OutboundLegRef;
    /** The legs its <Dial> rang or was bridged to (LiveCall.dialLegs): a resume takes back or ends each. */
    dialLegs?: DialLegRef[];
    /** The hosted number's call an outbound call rang (LiveCall.calledHosted). */
    hostedCallee?: HostedCallRef;
    /** Its REST TimeLimit in seconds (LiveCall.limitTo), when it has one. */
    timeLimitS?: number;
    /** The streams its SIP gateway holds (CallStreams.stored): a resume takes them back. */
    streams?: StoredStream[];
  };
};

/** A call of a number switchboard hosts, in the region that runs it. */
export interface HostedCallRef {
  region: string;
  callSid: string;
}

/**
 * An outbound call's SIP leg, as stored with the call: the gateway its audio is on, whether it rang
 * (its `ringing` callback was sent) and the final response it met when it did not answer.
 */
export interface OutboundLegRef {
  gateway: string;
  rang?: boolean;
  /** The SIP final response of a leg that did not answer: the final callback's SipResponseCode. */
  sipCode?: number;
}
