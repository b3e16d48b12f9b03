// What a call's verbs are given (VerbContext), made once per call when its first verb runs. Most
// calls use few of its ports, and a parked call keeps its context for as long as it waits (100,000 of
// them in one worker, issue #9), so each port is made the first time a verb asks for it.
import type { CallFacts } from "../../../machines/call.machine.js";
import type { Clock } from "../../clock/clock.js";
import { errorCodeInfo } from "../../errors/codes.js";
import type { CallStatus } from "../../model/records.js";
import type { ConferencePort, FetchedTwiml, QueuePort } from "../../twiml/rooms.js";
import type {
  CallIdentity,
  Channel,
  DialNetwork,
  HttpMethod,
  MediaStreams,
  RecordingPort,
  VerbCallbackRequest,
  VerbContext,
} from "../../twiml/types.js";
import { callParams } from "../../webhook/params.js";
import { conferencePort } from "../conferences.js";
import { regionDialNetwork } from "../dial-network.js";
import type { LiveCall } from "../live-call.js";
import { queuePort } from "../queues.js";
import type { RegionRuntime } from "../runtime.js";
import { verbFetchTwiml } from "./verb-fetch.js";

export class RegionVerbContext implements VerbContext {
  readonly call: CallIdentity;
  readonly #rt: RegionRuntime;
  readonly #live: LiveCall;
  readonly #facts: CallFacts;
  #streams: MediaStreams | undefined;
  #recordings: RecordingPort | undefined;
  #legs: DialNetwork | undefined;
  #conferences: ConferencePort | undefined;
  #queues: QueuePort | undefined;
  #fetch: ReturnType<typeof verbFetchTwiml> | undefined;

  constructor(rt: RegionRuntime, live: LiveCall) {
    this.#rt = rt;
    this.#live = live;
    // The facts are final once the call is routed, which is before any verb runs.
    const facts = live.actor.getSnapshot().context.facts;
    this.#facts = facts;
    this.call = {
      callSid: facts.callSid,
      accountSid: facts.accountSid ?? "",
      from: facts.from,
      to: facts.to,
      direction: facts.direction,
      region: facts.region,
      // A call that came in over SIP (a SIP gateway or a SIP domain) has SIP headers or a sip: caller.
      transport: facts.sip || facts.sipHeaders || facts.from.startsWith("sip:") ? "sip" : "pstn",
    };
  }

  get channel(): Channel {
    return this.#live.channel;
  }

  get clock(): Clock {
    return this.#live.clock;
  }

  // Methods as bound properties: verbs and ports pass them around on their own (`{ warn: ctx.warn }`).
  readonly warn = (code: number, message: string): void => {
    this.#rt.notifier.notify({
      accountSid: this.call.accountSid,
      callSid: this.call.callSid,
      // The registry says how grave a code is: an 11200 from a prompt's media is an error.
      level: errorCodeInfo(code)?.level ?? "warning",
      code,
      message,
    });
  };

  readonly callParams = (callStatus: CallStatus): Record<string, string> =>
    callParams(this.#facts, callStatus);

  readonly callback = (request: VerbCallbackRequest): Promise<void> => {
    const facts = this.#facts;
    return this.#live.clock.holding(() =>
      this.#rt.statusCallbacks.queue({ facts, ...request, params: { ...request.params } }),
    );
  };

  readonly answer = async (): Promise<void> => {
    const { actor, channel, clock } = this.#live;
    if (actor.getSnapshot().context.answeredAt !== null) return;
    await channel.answer();
    actor.send({ type: "verb.answered", at: clock.now() });
  };

  get streams(): MediaStreams {
    // The call's streams report through this context; failures to open are errors (31920…).
    this.#streams ??= this.#live.streams.port(
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

  readonly fetchTwiml = (
    url: string,
    method: HttpMethod,
    params: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<FetchedTwiml> => {
    // One fetcher per call: it counts the call's wait documents.
    this.#fetch ??= verbFetchTwiml(this.#rt, this.#live, this.#facts);
    return this.#fetch(url, method, params, signal);
  };
}
