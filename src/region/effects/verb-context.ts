// What a call's verbs are given (VerbContext), made once per call when its first verb runs. Most
// calls use few of its ports, and a parked call keeps its context for as long as it waits (100,000 of
// them in one worker, issue #9), so each port, each bound method and the call's identity is made the
// first time a verb asks for it: a Pause uses none of them.
import type { CallFacts } from "../../../machines/call.machine.js";
import type { Clock } from "../../clock/clock.js";
import { errorCodeInfo } from "../../errors/codes.js";
import type { CallStatus } from "../../model/records.js";
import { keyedSid, type SidPrefix } from "../../model/sid.js";
import type { Channel } from "../../twiml/ports/channel.js";
import type { DialNetwork } from "../../twiml/ports/dial-network.js";
import type { MediaStreams } from "../../twiml/ports/media-streams.js";
import type { RecordingPort } from "../../twiml/ports/recordings.js";
import type { ConferencePort, QueuePort } from "../../twiml/ports/rooms.js";
import type { CallIdentity, VerbCallbackRequest, VerbContext } from "../../twiml/verb-context.js";
import { callParams } from "../../webhook/params.js";
import { regionDialNetwork } from "../dial/dial-network.js";
import type { LiveCall } from "../host/live-call.js";
import { conferencePort } from "../rooms/conferences.js";
import { queuePort } from "../rooms/queues.js";
import type { RegionRuntime } from "../runtime.js";
import { verbFetchTwiml } from "./verb-fetch.js";

export class RegionVerbContext implements VerbContext {
  readonly #rt: RegionRuntime;
  readonly #live: LiveCall;
  readonly #facts: CallFacts;
  /** What this context has made so far: nothing, for a parked call's Pause. */
  #made: Made | undefined;

  constructor(rt: RegionRuntime, live: LiveCall) {
    this.#rt = rt;
    this.#live = live;
    // The facts are final once the call is routed, which is before any verb runs.
    this.#facts = live.actor.getSnapshot().context.facts;
  }

  get #lazy(): Made {
    this.#made ??= new Made();
    return this.#made;
  }

  get call(): CallIdentity {
    const made = this.#lazy;
    if (made.call) return made.call;
    const facts = this.#facts;
    made.call = {
      callSid: facts.callSid,
      accountSid: facts.accountSid ?? "",
      from: facts.from,
      to: facts.to,
      direction: facts.direction,
      region: facts.region,
      // A call that came in over SIP (a SIP gateway or a SIP domain) has SIP headers or a sip: caller;
      // a REST call placed to a sip: URI is a SIP leg too (Twilio's <Refer> takes both).
      transport:
        facts.sip ||
        facts.sipHeaders ||
        facts.from.startsWith("sip:") ||
        (facts.direction === "outbound-api" && facts.to.startsWith("sip:"))
          ? "sip"
          : "pstn",
    };
    return made.call;
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
    const made = this.#lazy;
    made.warn ??= (code, message) => {
      this.#rt.outbox.notifier.notify({
        accountSid: this.call.accountSid,
        callSid: this.call.callSid,
        // The registry says how grave a code is: an 11200 from a prompt's media is an error.
        level: errorCodeInfo(code)?.level ?? "warning",
        code,
        message,
      });
    };
    return made.warn;
  }

  get callParams(): (callStatus: CallStatus) => Record<string, string> {
    const made = this.#lazy;
    made.callParams ??= (callStatus) => callParams(this.#facts, callStatus);
    return made.callParams;
  }

  get callback(): (request: VerbCallbackRequest) => Promise<void> {
    const made = this.#lazy;
    made.callback ??= ({ delayMs, ...request }) => {
      const facts = this.#facts;
      // The outbox runs on the wall clock, whatever the call's time-scale.
      const notBefore = delayMs ? Date.now() + delayMs : undefined;
      return this.#live.clock.holding(() =>
        this.#rt.outbox.statusCallbacks.queue({
          facts,
          ...request,
          params: { ...request.params },
          ...(notBefore !== undefined && { notBefore }),
        }),
      );
    };
    return made.callback;
  }

  get step(): string {
    const { documents, index } = this.#live.actor.getSnapshot().context;
    return `${documents}.${index}`;
  }

  stableSid(prefix: SidPrefix, ...parts: string[]): string {
    // The account's token: a secret the region has for every call it runs, the same after a resume.
    const key = this.#rt.directory.accounts.get(this.call.accountSid)?.auth_token ?? "";
    return keyedSid(prefix, key, this.call.callSid, ...parts);
  }

  get answer(): () => Promise<void> {
    const made = this.#lazy;
    made.answer ??= async () => {
      const { actor, channel, clock } = this.#live;
      if (actor.getSnapshot().context.answeredAt !== null) return;
      await channel.answer();
      actor.send({ type: "verb.answered", at: clock.now() });
    };
    return made.answer;
  }

  get streams(): MediaStreams {
    const made = this.#lazy;
    // The call's streams report through this context; failures to open are errors (31920…).
    made.streams ??= this.#live.streams().port(
      this.#rt.webhooks,
      () => this,
      (code, message) =>
        this.#rt.outbox.notifier.notify({
          accountSid: this.call.accountSid,
          callSid: this.call.callSid,
          level: "error",
          code,
          message,
        }),
    );
    return made.streams;
  }

  get recordings(): RecordingPort {
    const made = this.#lazy;
    // Storing is real-time work: simulated time must not run on (and end the call) meanwhile.
    made.recordings ??= this.#rt.outbox.recordings.port(this.call, (work) => this.#live.clock.holding(work));
    return made.recordings;
  }

  get legs(): DialNetwork {
    const made = this.#lazy;
    made.legs ??= regionDialNetwork(this.#rt, this.#live, this.#facts);
    return made.legs;
  }

  get conferences(): ConferencePort {
    const made = this.#lazy;
    made.conferences ??= conferencePort(
      this.#rt.rooms.conferences,
      this.#rt.bus.nc,
      this.#live.clock,
      this.call,
    );
    return made.conferences;
  }

  get queues(): QueuePort {
    const made = this.#lazy;
    made.queues ??= queuePort(this.#rt.rooms.queues, this.#rt.bus.nc, this.#live.clock, this.call);
    return made.queues;
  }

  get fetchTwiml(): ReturnType<typeof verbFetchTwiml> {
    const made = this.#lazy;
    // One fetcher per call: it counts the call's wait documents.
    made.fetch ??= verbFetchTwiml(this.#rt, this.#live, this.#facts);
    return made.fetch;
  }
}

/** The ports, bound methods and identity a RegionVerbContext makes on first use. */
class Made {
  call: CallIdentity | undefined;
  streams: MediaStreams | undefined;
  recordings: RecordingPort | undefined;
  legs: DialNetwork | undefined;
  conferences: ConferencePort | undefined;
  queues: QueuePort | undefined;
  fetch: ReturnType<typeof verbFetchTwiml> | undefined;
  warn: VerbContext["warn"] | undefined;
  callParams: VerbContext["callParams"] | undefined;
  callback: VerbContext["callback"] | undefined;
  answer: VerbContext["answer"] | undefined;
}
