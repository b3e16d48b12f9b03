// What a verb is given to run (VerbContext): the ports it may ask of the call, who the call is, and
// the few things it may do beside them (warn, queue a callback, fetch a document). Never the whole call.
import type { Clock } from "../clock/clock.js";
import type { HttpMethod } from "../model/http.js";
import type { CallStatus } from "../model/records.js";
import type { SidPrefix } from "../model/sid.js";
import type { Channel } from "./ports/channel.js";
import type { DialNetwork } from "./ports/dial-network.js";
import type { MediaStreams } from "./ports/media-streams.js";
import type { RecordingPort } from "./ports/recordings.js";
import type { ConferencePort, QueuePort } from "./ports/rooms.js";
import type { TwimlDocument } from "./verb-data.js";

/** Who the call is: what a verb needs for its callbacks' parameters and for child legs. */
export interface CallIdentity {
  readonly callSid: string;
  readonly accountSid: string;
  readonly from: string;
  readonly to: string;
  readonly direction: string;
  readonly region: string;
  /** "sip" for a call that came in over SIP (it carries SIP headers or a sip: caller): only those can be referred. */
  readonly transport: "pstn" | "sip";
}

/** An asynchronous request a verb makes (recordingStatusCallback, a Dial's statusCallback…). */
export interface VerbCallbackRequest {
  readonly url: string;
  readonly method: HttpMethod;
  /** Sent as given: the verb chooses Twilio's parameters for its callback. */
  readonly params: Readonly<Record<string, string>>;
  /** Names the request within the call; a request queued again with the same key is sent once. */
  readonly key: string;
  /**
   * Send it no sooner than this many (real) milliseconds after it is queued: work Twilio does after
   * the call has moved on (a transcription) reports after the requests that follow it.
   */
  readonly delayMs?: number;
}

/** A TwiML document a verb requested for its own use (a waitUrl, a Queue noun's url). */
export interface FetchedTwiml extends TwimlDocument {
  /** The URL it came from after redirects: relative URLs in it were resolved against this. */
  readonly documentUrl: string;
}

/** All a verb may touch while it runs: never the whole call. */
export interface VerbContext {
  /**
   * Names the verb now running by its place in the call (its document, its index there): the same
   * when a resumed call runs that verb again. Only a call's own documents have one (not a whisper's).
   */
  readonly step?: string;
  /**
   * A SID that the call derives the same way again after a resume (a resource it names before it
   * stores it: a Recording), from `parts` and the call, keyed by the account's secret so that no one
   * who knows only the CallSid can derive it. Only a region's call has one.
   */
  stableSid?(prefix: SidPrefix, ...parts: string[]): string;
  readonly channel: Channel;
  readonly streams: MediaStreams;
  readonly clock: Clock;
  readonly call: CallIdentity;
  /** Reports a warning (e.g. 13510) against the call; the verb carries on. */
  warn(code: number, message: string): void;
  /**
   * The parameters every request about the call carries (CallSid, From, To, CallStatus, the SIP and
   * geographic ones…), for a request a verb sends itself, such as an action sent after a hang-up.
   */
  callParams(callStatus: CallStatus): Record<string, string>;
  /**
   * Queues a signed callback in the region's durable outbox; resolves once it is stored, not sent
   * (a callback never holds the call up; a failed one is a 15003 warning on the call).
   */
  callback(request: VerbCallbackRequest): Promise<void>;
  readonly recordings: RecordingPort;
  /** Child legs and the network they ring on (<Dial>). */
  readonly legs: DialNetwork;
  /** Answers the call now unless it is answered already (a <Dial answerOnBridge> when it bridges). */
  answer(): Promise<void>;
  /**
   * Requests TwiML for the verb's own use (a waitUrl, a Queue noun's url), signed like the call's
   * webhooks, with the call's parameters plus `params`; a parse warning is reported on the call.
   */
  fetchTwiml?(
    url: string,
    method: HttpMethod,
    params: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<FetchedTwiml>;
  /** The region's conferences (optional: only the region worker provides them). */
  readonly conferences?: ConferencePort;
  /** The region's queues (optional: only the region worker provides them). */
  readonly queues?: QueuePort;
}
