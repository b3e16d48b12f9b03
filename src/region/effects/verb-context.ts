// What a call's verbs are given (VerbContext), made once per call when its first verb runs. Most
// calls use few of its ports, and a parked call keeps its context for as long as it waits (100,000 of
// them in one worker, issue #9), so each port, each bound method and the call's identity is made the
// first time a verb asks for it: a Pause uses none of them.
import type { CallFacts } from "../../../machines/call.machine.js";
import type { Clock } from "../../clock/clock.js";
import { errorCodeInfo } from "../../errors/codes.js";
import type { CallStatus } from "../../model/records.js";
import type { ConferencePort, QueuePort } from "../../twiml/rooms.js";
import type {
  CallIdentity,
  Channel,
  DialNetwork,
  MediaStreams,
  RecordingPort,
  VerbCallbackRequest,
  VerbContext,
} from "../../twiml/types.js";
import { callParams } from "../../webhook/params.js";
import { CallStreams } from "../call-streams.js";
import { conferencePort } from "../conferences.js";
import { regionDialNetwork } from "../dial-network.js";
import type { LiveCall } from "../live-call.js";
import { queuePort } from "../queues.js";
import type { RegionRuntime } from "../runtime.js";
import { verbFetchTwiml } from "./verb-fetch.js";

export class RegionVerbContext implements VerbContext {
  readonly #rt: RegionRuntime;
  readonly #live: LiveCall;
  readonly #facts: CallFacts;
  #call: CallIdentity | undefined;
  #streams: MediaStreams | undefined;
  #recordings: RecordingPort | undefined;
  #legs: DialNetwork | undefined;
  #conferences: ConferencePort | undefined;
  #queues: QueuePort | undefined;
  #fetch: ReturnType<typeof verbFetchTwiml> | undefined;
  #warn: VerbContext["warn"] | undefined;
  #callParams: VerbContext["callParams"] | undefined;
  #callback: VerbContext["callback"] | undefined;
  #answer: VerbContext["answer"] | undefined;

  constructor(rt: RegionRuntime, live: LiveCall) {
    this.#rt = rt;
    this.#live = live;
    // The facts are final once the call is routed, which is before any verb runs.
    this.#facts = live.actor.getSnapshot().context.facts;
  }

  get call(): CallIdentity {
    if (this.#call) return this.#call;
    const facts = this.#facts;
    this.#call = {
      callSid: facts.callSid,
      accountSid: facts.accountSid ?? "",
      from: facts.from,
      to: facts.to,
      direction: facts.direction,
      region: facts.region,
      // A call that came in over SIP (a SIP gateway or a SIP domain) has SIP headers or a sip: caller.
      transport: facts.sip || facts.sipHeaders || facts.from.startsWith("sip:") ? "sip" : "pstn",
    };
    return this.#call;
  }

  get channel(): Channel {
    return this.#live.channel;
  }

  get clock(): Clock {
    return this.#live.clock;
  }

  // Methods as bound functions, made on first use: verbs and ports pass them around on their own
  // (`{ warn: ctx.warn }`).
  get warn(): (code: number, message: string) => void {
    this.#warn ??= (code, message) => {
      this.#rt.notifier.notify({
        accountSid: this.call.accountSid,
        callSid: this.call.callSid,
        // The registry says how grave a code is: an 11200 from a prompt's media is an error.
        level: errorCodeInfo(code)?.level ?? "warning",
        code,
        message,
      });
    };
    return this.#warn;
  }

  get callParams(): (callStatus: CallStatus) => Record<string, string> {
    this.#callParams ??= (callStatus) => callParams(this.#facts, callStatus);
    return this.#callParams;
  }

  get callback(): (request: VerbCallbackRequest) => Promise<void> {
    this.#callback ??= (request) => {
      const facts = this.#facts;
      return this.#live.clock.holding(() =>
        this.#rt.statusCallbacks.queue({ facts, ...request, params: { ...request.params } }),
      );
    };
    return this.#callback;
  }

  get answer(): () => Promise<void> {
    this.#answer ??= async () => {
      const { actor, channel, clock } = this.#live;
      if (actor.getSnapshot().context.answeredAt !== null) return;
      await channel.answer();
      actor.send({ type: "verb.answered", at: clock.now() });
    };
    return this.#answer;
  }

  get streams(): MediaStreams {
    // The call's streams report through this context; failures to open are errors (31920…).
    const live = this.#live;
    live.streams ??= new CallStreams(live.clock);
    this.#streams ??= live.streams.port(
      () => this,
      (code, message) =>
        this.#rt.notifier.notify({
          accountSid: this.call.accountSid,
          callSid: this.call.callSid,
          level: "error",
          code,
          message,
        }),
    );
    return this.#streams;
  }

  get recordings(): RecordingPort {
    // Storing is real-time work: simulated time must not run on (and end the call) meanwhile.
    this.#recordings ??= this.#rt.recordings.port(this.call, (work) => this.#live.clock.holding(work));
    return this.#recordings;
  }

  get legs(): DialNetwork {
    this.#legs ??= regionDialNetwork(this.#rt, this.#live, this.#facts);
    return this.#legs;
  }

  get conferences(): ConferencePort {
    this.#conferences ??= conferencePort(this.#rt.conferences, this.#rt.nc, this.#live.clock, this.call);
    return this.#conferences;
  }

  get queues(): QueuePort {
    this.#queues ??= queuePort(this.#rt.queues, this.#rt.nc, this.#live.clock, this.call);
    return this.#queues;
  }

  get fetchTwiml(): ReturnType<typeof verbFetchTwiml> {
    // One fetcher per call: it counts the call's wait documents.
    this.#fetch ??= verbFetchTwiml(this.#rt, this.#live, this.#facts);
    return this.#fetch;
  }
}
