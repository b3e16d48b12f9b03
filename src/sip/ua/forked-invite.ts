// One outbound leg rung at several phones at once: a registered user's devices, as Twilio forks a
// call to all of a user's registrations. Each phone gets its own INVITE (its own OutboundDialog and
// Call-ID, the same SDP offer); the first to answer takes the leg and the others are cancelled as
// answered elsewhere (RFC 3326 Reason cause=200, so they show no missed call). When none answers,
// the leg fails with the best of their responses (RFC 3261 §16.7): a 6xx at once (it cancels the
// other phones); else the lowest class, and within it a phone that rang out before one that was
// busy. A phone whose answer has no audio the leg can take is hung up, and the others ring on.
import type { OfferResult } from "./inbound-dialog.js";
import { OutboundDialog, type OutboundDialogEvents, type OutboundInvite } from "./outbound-dialog.js";
import type { ReferOutcome } from "./refer.js";
import type { SipMessage, SipStack } from "./stack.js";

interface Failure {
  fork: OutboundDialog;
  status: number;
  reason: string;
  response: SipMessage | undefined;
}

/** RFC 3326's text for a phone cancelled because another one answered. */
export const ANSWERED_ELSEWHERE = "Call completed elsewhere";

/** What the leg can take of a phone's SDP (G.711 audio): a phone whose answer it cannot is not the one. */
export type AcceptsSdp = (sdp: string) => boolean;

export class ForkedInvite {
  /** One INVITE a phone, in the order of `invites`. */
  readonly forks: readonly OutboundDialog[];
  on: Partial<OutboundDialogEvents> = {};
  /** Resolves when every phone's session is over. */
  readonly closed: Promise<void>;
  #answered: OutboundDialog | undefined;
  /** The phone whose early media the caller hears (the first to send any it can take): one stream, not a mix. */
  #earlyMedia: OutboundDialog | undefined;
  readonly #failures = new Map<OutboundDialog, Failure>();
  #reported: Failure | undefined;

  constructor(
    stack: SipStack,
    invites: readonly OutboundInvite[],
    private readonly accepts: AcceptsSdp,
  ) {
    this.forks = invites.map((invite) => new OutboundDialog(stack, invite));
    for (const fork of this.forks) fork.on = this.#eventsOf(fork);
    this.closed = Promise.all(this.forks.map((f) => f.closed)).then(() => {});
  }

  /** The answering phone's Call-ID; before an answer, the first phone's (or the reported failure's). */
  get callId(): string {
    return (this.#answered ?? this.#reported?.fork ?? (this.forks[0] as OutboundDialog)).callId;
  }

  /** Every phone's Call-ID: the dialog table routes each phone's requests here. */
  get callIds(): string[] {
    return this.forks.map((f) => f.callId);
  }

  get state(): OutboundDialog["state"] {
    if (this.#answered) return this.#answered.state;
    return this.#reported ? "ended" : "early";
  }

  /** Which phone answered (its index in `invites`); undefined before an answer. */
  get answeredBy(): number | undefined {
    return this.#answered ? this.forks.indexOf(this.#answered) : undefined;
  }

  /** Which phone's early media the caller hears (its index); undefined while none sends any. */
  get earlyMediaBy(): number | undefined {
    return this.#earlyMedia ? this.forks.indexOf(this.#earlyMedia) : undefined;
  }

  start(): void {
    for (const fork of this.forks) fork.start();
  }

  /** SipCall's dialog: a leg has nothing to ring or answer, it is the one calling. */
  ringing(): void {}

  progress(): void {}

  answer(): Promise<void> {
    return Promise.resolve();
  }

  /** Ending before the answer cancels every phone (the leg then fails with 487). */
  reject(): void {
    this.cancel("Cancelled by the caller");
  }

  cancel(why: string): void {
    for (const fork of this.forks) fork.cancel(why);
  }

  /** Ends the leg: BYE to the phone that answered, else CANCEL to all. */
  async bye(): Promise<void> {
    if (this.#answered) return this.#answered.bye();
    this.cancel("Hung up before the answer");
  }

  refer(target: string, signal: AbortSignal): Promise<ReferOutcome> {
    return this.#answered ? this.#answered.refer(target, signal) : Promise.resolve({ referCode: 481 });
  }

  /** A request inside one phone's session (by its Call-ID). */
  handle(rq: SipMessage): void {
    this.forks.find((f) => f.callId === rq.headers["call-id"])?.handle(rq);
  }

  #eventsOf(fork: OutboundDialog): Partial<OutboundDialogEvents> {
    const answering = () => this.#answered === fork;
    return {
      ringing: (status, sdp) => {
        if (this.#answered || this.#reported) return;
        // Early media is a 183's; the first phone's that the leg can take is the one heard.
        if (status === 183 && sdp !== undefined && !this.#earlyMedia && this.accepts(sdp))
          this.#earlyMedia = fork;
        this.on.ringing?.(status, this.#earlyMedia === fork ? sdp : undefined);
      },
      answered: (sdp, response) => {
        // Another phone's 200 after the first: that phone was cancelled, and its dialog ends itself.
        if (this.#answered || this.#reported) return;
        if (sdp !== undefined && !this.accepts(sdp)) {
          // Not a phone this leg can talk to: it is hung up, and the others ring on.
          void fork.bye();
          this.#failed(fork, 488, "The answer has no PCMU or PCMA audio", response);
          return;
        }
        this.#answered = fork;
        for (const other of this.forks) if (other !== fork) other.cancel(ANSWERED_ELSEWHERE, 200);
        this.on.answered?.(sdp, response);
      },
      failed: (status, reason, response) => this.#failed(fork, status, reason, response),
      bye: () => {
        if (answering()) this.on.bye?.();
      },
      info: (type, body) => {
        if (answering()) this.on.info?.(type, body);
      },
      offer: (sdp): OfferResult => {
        if (!answering()) return { status: 488, text: "Not the answering phone" };
        return this.on.offer?.(sdp) ?? { status: 488, text: "No offer is taken" };
      },
    };
  }

  /** One phone is out; the leg fails when the last one is, or at once on a 6xx. */
  #failed(fork: OutboundDialog, status: number, reason: string, response?: SipMessage): void {
    if (this.#answered || this.#failures.has(fork)) return;
    this.#failures.set(fork, { fork, status, reason, response });
    if (this.#earlyMedia === fork) this.#earlyMedia = undefined;
    if (this.#reported) return;
    // A 6xx speaks for the user everywhere (§16.7 step 5): the other phones stop ringing, and the
    // leg fails now, not when the last of them has answered its CANCEL.
    const decline = status >= 600;
    if (decline)
      for (const other of this.forks) if (other !== fork) other.cancel(reason || "Declined", status);
    if (!decline && this.#failures.size < this.forks.length) return;
    const best = bestFailure([...this.#failures.values()]);
    this.#reported = best;
    this.on.failed?.(best.status, best.reason, best.response);
  }
}

/**
 * The response a forked leg fails with (RFC 3261 §16.7 step 6): a 6xx if any; else the lowest class;
 * within it, a phone that rang until cancelled (487) before a busy one (486), before anything else,
 * each in the order they came.
 */
export function bestFailure<F extends { status: number }>(failures: readonly F[]): F {
  const rank = (status: number) => {
    if (status >= 600) return 0;
    const within = status === 487 ? 0 : status === 486 ? 1 : 2;
    return Math.floor(status / 100) * 10 + within;
  };
  let best = failures[0] as F;
  for (const f of failures) if (rank(f.status) < rank(best.status)) best = f;
  return best;
}
