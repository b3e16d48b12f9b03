// The UAS side of one INVITE session (RFC 3261 §13-15): 100/180/200 with one To-tag and the
// INVITE's Record-Route, the 2xx re-sent until its ACK (§13.3.1.4), CANCEL (487), BYE either way,
// INFO, and offers inside the dialog (re-INVITE, UPDATE: hold, resume, session-timer refreshes).
// What the session's SDP means is the caller's (`on.offer`/`on.answer`), not this file's.
import { randomBytes } from "node:crypto";
import { Dialog } from "./dialog.js";
import { answerInDialog } from "./in-dialog.js";
import { DialogRefers, type ReferOutcome } from "./refer.js";
import { ALLOW, rejection, response, SUPPORTED } from "./responses.js";
import type { Remote, SipMessage, SipStack } from "./stack.js";

const T1 = 500;
const T2 = 4000;
/** 64*T1: how long a 2xx is re-sent without an ACK before it is given up (§13.3.1.4). */
const ACK_WAIT = 64 * T1;
/** The smallest session interval we take (RFC 4028 §4: 90 s). */
const MIN_SE = 90;

/** An answer to an offer, or why it is refused (488 and its Reason text). */
export type OfferResult = { sdp: string } | { status: number; text: string };

export interface InboundDialogEvents {
  /** The caller cancelled before the answer (the INVITE got 487). */
  cancel(): void;
  /** The caller sent BYE. */
  bye(): void;
  /** A SIP INFO request (DTMF relay). */
  info(contentType: string, body: string): void;
  /** The 200 was never acknowledged. */
  ackTimeout(): void;
  /** An offer inside the dialog (re-INVITE or UPDATE with SDP). */
  offer(sdp: string): OfferResult;
  /** A re-INVITE without SDP asks for our offer (its answer comes in the ACK). */
  currentOffer(): string;
  /** The answer to an offer we put in a 2xx, from its ACK. */
  answer(sdp: string): void;
}

export class InboundDialog {
  readonly dialog: Dialog;
  readonly callId: string;
  /** Where the INVITE came from (address, port, transport). */
  readonly source: Remote;
  state: "early" | "answering" | "confirmed" | "ended" = "early";
  on: Partial<InboundDialogEvents> = {};
  /** 2xx responses to INVITEs waiting for their ACK, by CSeq. */
  readonly #unacked = new Map<number, { ack(rq: SipMessage): void; stop(): void }>();
  #closedResolve!: () => void;
  /** Resolves when the dialog is over (a final failure sent, or a BYE sent or received). */
  readonly closed = new Promise<void>((resolve) => {
    this.#closedResolve = resolve;
  });
  /** Settles when the 200 is acknowledged or given up on. */
  #confirmed: Promise<void> | undefined;
  readonly #refers = new DialogRefers();

  constructor(
    private readonly stack: SipStack,
    readonly invite: SipMessage,
    private readonly contact: string,
    source: Remote,
  ) {
    this.callId = invite.headers["call-id"];
    this.source = source;
    this.dialog = Dialog.uas(invite, randomBytes(6).toString("hex"), source);
    // Over TCP the call holds its caller's connection: the package closes one idle for two minutes,
    // and a caller behind NAT can be reached on no other.
    const held = stack.hold(source, () => {});
    if (held) void this.closed.then(() => held.release());
  }

  get localTag(): string {
    return this.dialog.localTag;
  }

  /** The INVITE's SDP offer; empty when the caller wants ours (offer in the 200, answer in the ACK). */
  get sdpOffer(): string {
    return this.invite.content ?? "";
  }

  trying(): void {
    this.stack.respond(response(this.invite, 100));
  }

  ringing(): void {
    if (this.state === "early") this.stack.respond(this.#build(180));
  }

  /** 183 Session Progress with our SDP: early media before the answer (its 200 repeats the SDP). */
  progress(sdp: string): void {
    if (this.state === "early") this.stack.respond(this.#build(183, sdp));
  }

  /** Sends 200 with our SDP, again and again (T1 doubling to T2) until the ACK; resolves on it. */
  answer(sdp: string): Promise<void> {
    if (this.state !== "early") return this.#confirmed ?? Promise.resolve();
    this.state = "answering";
    const timer = sessionTimer(this.invite);
    const ok = this.#build(200, sdp, "status" in timer ? {} : timer);
    const offered = this.sdpOffer === "";
    this.#confirmed = this.#untilAck(ok, this.invite.headers.cseq.seq, (ack) => {
      if (offered && ack.content) this.on.answer?.(ack.content);
    }).then((acked) => {
      if (acked && this.state === "answering") this.state = "confirmed";
      if (!acked) this.on.ackTimeout?.();
    });
    return this.#confirmed;
  }

  /** A final failure to the INVITE (486 busy, 603 decline, 487 cancelled…), with a Reason; the package re-sends it. */
  reject(status: number, text?: string, headers: Record<string, unknown> = {}): void {
    if (this.state !== "early") return;
    this.#close();
    const rs = rejection(this.invite, status, text, headers);
    rs.headers.to = this.dialog.local;
    this.stack.respond(rs);
  }

  /** Ends an answered call from our side; resolves on the BYE's final response (or its timeout). */
  async bye(): Promise<void> {
    if (this.state === "early") {
      this.reject(603);
      return;
    }
    // A BYE may not overtake the ACK of our 200 (§15): it waits for the ACK, or for giving up on it.
    if (this.state === "answering") await this.#confirmed;
    if (this.state === "ended") return;
    this.#close();
    await this.dialog.send(this.stack, "BYE", this.contact);
  }

  /** Asks the caller to transfer the call to `target` (REFER, `<Refer>`); 481 when it is not answered. */
  async refer(target: string, signal: AbortSignal): Promise<ReferOutcome> {
    // Like a BYE, a REFER waits for the ACK of our 200 (or for giving up on it).
    if (this.state === "answering") await this.#confirmed;
    if (this.state !== "confirmed") return { referCode: 481 };
    const session = { stack: this.stack, dialog: this.dialog, contact: this.contact, closed: this.closed };
    return this.#refers.refer(session, target, signal);
  }

  /** Called by the dialog table for every in-dialog request of this call. */
  handle(rq: SipMessage): void {
    const method = rq.method ?? "";
    if (method === "ACK") {
      this.#unacked.get(rq.headers.cseq.seq)?.ack(rq);
      return;
    }
    const refused = this.#notOurs(rq);
    if (refused) {
      this.stack.respond(rejection(rq, ...refused));
      return;
    }
    if (method === "CANCEL") {
      // Its 200 has the To-tag of our responses to the INVITE (§9.2).
      this.stack.respond(response(rq, 200, { to: this.dialog.local }));
      if (this.state === "early") {
        this.reject(487, "Cancelled by the caller");
        this.on.cancel?.();
      }
      return;
    }
    if (this.state === "ended" && method !== "BYE") {
      this.stack.respond(rejection(rq, 481, "The call has ended"));
      return;
    }
    // Requests out of order (a lower CSeq than one already seen) are refused (§12.2.2).
    if (rq.headers.to.params.tag && rq.headers.cseq.seq < this.dialog.remoteCseq) {
      this.stack.respond(rejection(rq, 500, "CSeq out of order"));
      return;
    }
    this.dialog.remoteCseq = Math.max(this.dialog.remoteCseq, rq.headers.cseq.seq);
    answerInDialog(this.stack, rq, {
      ended: this.state === "ended",
      // A BYE before the answer (an early dialog, §15) ends the INVITE too: 487, as a CANCEL would.
      close: () => (this.state === "early" ? this.reject(487, "The caller hung up") : this.#close()),
      offer: (offer) => this.#offer(offer),
      notify: (rq) => this.#refers.notify(rq),
      on: this.on,
    });
  }

  /** A re-INVITE or UPDATE: a new offer (hold, resume, a moved address), or a session refresh. */
  #offer(rq: SipMessage): void {
    const timer = sessionTimer(rq);
    if ("status" in timer) {
      this.stack.respond(rejection(rq, 422, "Session interval too small", { "min-se": String(MIN_SE) }));
      return;
    }
    const reinvite = rq.method === "INVITE";
    // Before the answer, the INVITE's own offer has no reliable answer yet (our 183's is not, without
    // 100rel): a second INVITE (RFC 3261 §14.2) or an UPDATE with a new offer (RFC 3311 §5.2) is
    // 500 with a Retry-After of up to 10 s. An UPDATE without SDP only refreshes the session.
    if (this.state === "early" && (reinvite || rq.content)) {
      const retryAfter = String(Math.floor(Math.random() * 11));
      this.stack.respond(rejection(rq, 500, "The call is not answered yet", { "retry-after": retryAfter }));
      return;
    }
    // A re-INVITE while our 200 waits for its ACK would cross offers (§14.2).
    if (reinvite && this.#unacked.size > 0) {
      this.stack.respond(rejection(rq, 491, "An earlier offer is still open", { "retry-after": "1" }));
      return;
    }
    if (rq.headers.contact?.[0]?.uri) this.dialog.remoteTarget = rq.headers.contact[0].uri;
    let body: string | undefined;
    let answerInAck = false;
    if (rq.content) {
      const result = this.on.offer?.(rq.content) ?? { status: 488, text: "No session" };
      if ("status" in result) {
        this.stack.respond(rejection(rq, result.status, result.text));
        return;
      }
      body = result.sdp;
    } else if (reinvite) {
      // Without SDP a re-INVITE asks for our offer; an UPDATE without SDP only refreshes the session.
      body = this.on.currentOffer?.();
      answerInAck = true;
    }
    const ok = response(rq, 200, {
      contact: [{ uri: this.contact, params: {} }],
      allow: ALLOW,
      supported: SUPPORTED.join(", "),
      ...timer,
      ...(body !== undefined && { "content-type": "application/sdp" }),
    });
    ok.headers.to = this.dialog.local;
    if (body !== undefined) ok.content = body;
    if (!reinvite) {
      this.stack.respond(ok);
      return;
    }
    void this.#untilAck(ok, rq.headers.cseq.seq, (ack) => {
      if (answerInAck && ack.content) this.on.answer?.(ack.content);
    });
  }

  /** Sends a 2xx to an INVITE and again at T1 doubling to T2 until its ACK; resolves true on it. */
  #untilAck(rs: SipMessage, cseq: number, onAck: (ack: SipMessage) => void): Promise<boolean> {
    this.stack.respond(rs);
    return new Promise<boolean>((resolve) => {
      let interval = T1;
      let timer: NodeJS.Timeout;
      const started = Date.now();
      const finish = (acked: boolean) => {
        clearTimeout(timer);
        this.#unacked.delete(cseq);
        resolve(acked);
      };
      const again = () => {
        if (Date.now() - started >= ACK_WAIT) return finish(false);
        this.stack.respond(rs);
        interval = Math.min(interval * 2, T2);
        timer = setTimeout(again, interval);
      };
      timer = setTimeout(again, interval);
      this.#unacked.set(cseq, {
        ack: (ack) => {
          finish(true);
          onAck(ack);
        },
        stop: () => finish(false),
      });
    });
  }

  /**
   * Why a request with this call's Call-ID is not of this call, if it is not (§12.2.2, §9.2): another
   * From-tag, or a To-tag not ours, is another dialog (481); an INVITE without a To-tag is a second
   * copy of ours that took another path, a fork or a fail-over (§8.2.2.2, 482); a CANCEL must match
   * our INVITE's transaction (its top Via branch).
   */
  #notOurs(rq: SipMessage): [number, string] | undefined {
    const h = rq.headers;
    if (h.from?.params?.tag !== this.dialog.remote.params.tag) return [481, "No such dialog"];
    if (rq.method === "CANCEL") {
      const branch = (via: SipMessage["headers"]["via"]) => via?.[0]?.params?.branch;
      return branch(h.via) === branch(this.invite.headers.via) ? undefined : [481, "No such transaction"];
    }
    const toTag = h.to?.params?.tag;
    if (toTag === undefined) return rq.method === "INVITE" ? [482, "Loop Detected"] : [481, "No such dialog"];
    return toTag === this.dialog.localTag ? undefined : [481, "No such dialog"];
  }

  #close(): void {
    this.state = "ended";
    for (const pending of [...this.#unacked.values()]) pending.stop();
    this.#closedResolve();
  }

  /** A response to the INVITE that is part of the dialog: our To-tag, Contact and the route set. */
  #build(status: number, sdp?: string, headers: Record<string, unknown> = {}): SipMessage {
    const rs = response(this.invite, status, headers);
    rs.headers.to = this.dialog.local;
    rs.headers.contact = [{ uri: this.contact, params: {} }];
    // The dialog's route set is the INVITE's Record-Route: the response carries it back (§12.1.1).
    if (this.dialog.routeSet.length > 0) rs.headers["record-route"] = [...this.dialog.routeSet];
    if (status === 200) {
      rs.headers.allow = ALLOW;
      rs.headers.supported = SUPPORTED.join(", ");
    }
    if (sdp !== undefined) {
      rs.headers["content-type"] = "application/sdp";
      rs.content = sdp;
    }
    return rs;
  }
}

/**
 * The Session-Expires of a 2xx to `rq` (RFC 4028): the interval the caller asked for, refreshed by
 * the caller (we do not send refreshes), and `Require: timer` when it supports timers.
 */
export function sessionTimer(rq: SipMessage): Record<string, string> | { status: 422 } {
  const se = rq.headers["session-expires"] ?? rq.headers.x;
  if (typeof se !== "string") return {};
  const interval = Number(/^\s*(\d+)/.exec(se)?.[1]);
  if (!Number.isInteger(interval)) return {};
  if (interval < MIN_SE) return { status: 422 };
  const supported = String(rq.headers.supported ?? "")
    .toLowerCase()
    .split(",")
    .map((t) => t.trim());
  if (!supported.includes("timer")) return {};
  return { "session-expires": `${interval};refresher=uac`, require: "timer" };
}
