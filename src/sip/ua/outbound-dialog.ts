// The UAC side of one INVITE session (RFC 3261 §13.2, §9, §22): our INVITE with its offer, one answer
// to a 401/407 digest challenge, 1xx (ringing, early media), the 2xx acknowledged (again for each
// re-sent 2xx) and its dialog made, CANCEL on a timeout or a hang-up before the answer, BYE either way.
import { randomBytes } from "node:crypto";
import { Dialog } from "./dialog.js";
import { authHeaderTexts, authorization, type Credentials, parseChallenge } from "./digest.js";
import { answerInDialog } from "./in-dialog.js";
import type { OfferResult } from "./inbound-dialog.js";
import { DialogRefers, type ReferOutcome } from "./refer.js";
import { ALLOW, rejection, response, SUPPORTED } from "./responses.js";
import type { Hop, SipMessage, SipStack } from "./stack.js";

export interface OutboundDialogEvents {
  /** 180 or 183; `sdp` when it carries the callee's early media. */
  ringing(status: number, sdp: string | undefined): void;
  /**
   * The 2xx, acknowledged: its SDP answer (absent if it came already in a reliable 1xx, which we do
   * not use), and the response itself (its X- headers go to the Dial's action).
   */
  answered(sdp: string | undefined, response: SipMessage): void;
  /**
   * A final failure: the callee's (`response` then is it), 487 after our CANCEL, 408 when nothing
   * answered, 503 unreachable.
   */
  failed(status: number, reason: string, response?: SipMessage): void;
  /** The callee hung up. */
  bye(): void;
  info(contentType: string, body: string): void;
  /** An offer inside the dialog (re-INVITE or UPDATE with SDP): hold, resume, a moved address. */
  offer(sdp: string): OfferResult;
}

export interface OutboundInvite {
  /** The Request-URI. */
  uri: string;
  /** The To URI, when it is not the Request-URI (a registered phone's address of record). */
  to?: string;
  /**
   * Where every request of the call goes with no proxy on the path, not only the INVITE (`hop`): a
   * registered phone's flow, as its Contact may be an address behind NAT.
   */
  flow?: Hop;
  /** Our From, without its tag. */
  from: string;
  /** Our Contact. */
  contact: string;
  /** Where the INVITE goes first (a trunk, or where the URI resolves). */
  hop: Hop;
  sdp: string;
  auth?: Credentials;
  headers?: Record<string, string>;
  /** Unanswered (no 2xx) after this long: CANCEL (487), or 408 when nothing at all came back. */
  timeoutMs: number;
}

/** After a CANCEL, how long a UAS that never answers it is waited for (64·T1, as Timer B). */
const CANCEL_WAIT_MS = 32_000;

export class OutboundDialog {
  readonly callId = randomBytes(12).toString("hex");
  state: "early" | "confirmed" | "ended" = "early";
  on: Partial<OutboundDialogEvents> = {};
  dialog: Dialog | undefined;
  #invite: SipMessage;
  #challenged = false;
  #provisional = false;
  #cancelled: string | undefined;
  #cancelCause = 487;
  #timer: NodeJS.Timeout | undefined;
  readonly #refers = new DialogRefers();
  #closedResolve!: () => void;
  /** Resolves when the session is over (failed, or a BYE sent or received). */
  readonly closed = new Promise<void>((resolve) => {
    this.#closedResolve = resolve;
  });

  constructor(
    private readonly stack: SipStack,
    private readonly opts: OutboundInvite,
  ) {
    const tag = randomBytes(6).toString("hex");
    this.#invite = {
      method: "INVITE",
      uri: opts.uri,
      headers: {
        to: { uri: opts.to ?? opts.uri.split(/[;?]/)[0] ?? opts.uri, params: {} },
        from: { uri: opts.from, params: { tag } },
        "call-id": this.callId,
        cseq: { method: "INVITE", seq: 1 },
        via: [],
        contact: [{ uri: opts.contact, params: {} }],
        "max-forwards": 70,
        allow: ALLOW,
        supported: SUPPORTED.join(", "),
        ...opts.headers,
        "content-type": "application/sdp",
      },
      content: opts.sdp,
    };
  }

  /** Sends the INVITE; its outcome comes as events. */
  start(): void {
    this.#timer = setTimeout(() => this.#timeout(), this.opts.timeoutMs);
    this.#send(this.#invite);
  }

  /** SipCall's dialog: a leg has nothing to ring or answer, it is the one calling. */
  ringing(): void {}

  progress(): void {}

  answer(): Promise<void> {
    return Promise.resolve();
  }

  /** Ending before the answer is a CANCEL (the INVITE then fails with 487). */
  reject(): void {
    this.cancel("Cancelled by the caller");
  }

  /**
   * Cancels an INVITE not yet answered (RFC 3261 §9.1). `cause` is the CANCEL's Reason (RFC 3326):
   * 200 when another phone of a forked call answered, so this one shows no missed call.
   */
  cancel(why: string, cause = 487): void {
    if (this.state !== "early" || this.#cancelled !== undefined) return;
    this.#cancelled = why;
    this.#cancelCause = cause;
    clearTimeout(this.#timer);
    // A CANCEL before any response may cross the INVITE; §9.1 waits for a 1xx, we send it now and
    // again on the first 1xx, and stop waiting for a UAS that answers neither.
    this.#sendCancel();
    this.#timer = setTimeout(
      () => this.#fail(408, "No response to the INVITE or its CANCEL"),
      CANCEL_WAIT_MS,
    );
    this.#timer.unref();
  }

  /** Ends the session: CANCEL before the answer, else BYE (resolves on its final response). */
  async bye(): Promise<void> {
    if (this.state === "early") {
      this.cancel("Hung up before the answer");
      return;
    }
    if (this.state === "ended" || !this.dialog) return;
    this.#close();
    await this.dialog.send(this.stack, "BYE", this.opts.contact);
  }

  /** Asks the callee to transfer the call to `target` (REFER, `<Refer>`); 481 when it is not answered. */
  refer(target: string, signal: AbortSignal): Promise<ReferOutcome> {
    if (this.state !== "confirmed" || !this.dialog) return Promise.resolve({ referCode: 481 });
    const session = {
      stack: this.stack,
      dialog: this.dialog,
      contact: this.opts.contact,
      closed: this.closed,
    };
    return this.#refers.refer(session, target, signal);
  }

  /** Called by the dialog table for every request inside this session (BYE, INFO, re-INVITE…). */
  handle(rq: SipMessage): void {
    const method = rq.method ?? "";
    if (method === "ACK") return;
    if (this.state === "ended" && method !== "BYE") {
      this.stack.respond(rejection(rq, 481, "The call has ended"));
      return;
    }
    answerInDialog(this.stack, rq, {
      ended: this.state === "ended",
      close: () => this.#close(),
      offer: (offer) => this.#offer(offer),
      notify: (rq) => this.#refers.notify(rq),
      on: this.on,
    });
  }

  /** A re-INVITE or UPDATE from the callee: a new offer (hold, resume, a moved address). */
  #offer(rq: SipMessage): void {
    const result = rq.content ? this.on.offer?.(rq.content) : undefined;
    if (result && "status" in result) {
      this.stack.respond(rejection(rq, result.status, result.text));
      return;
    }
    if (rq.headers.contact?.[0]?.uri && this.dialog) this.dialog.remoteTarget = rq.headers.contact[0].uri;
    const ok = response(rq, 200, {
      contact: [{ uri: this.opts.contact, params: {} }],
      ...(result && { "content-type": "application/sdp" }),
    });
    if (result) ok.content = result.sdp;
    // The package's server transaction re-sends a 2xx to an INVITE only as asked; the callee's ACK ends it.
    this.stack.respond(ok);
  }

  #send(rq: SipMessage): void {
    this.stack.request(rq, this.opts.hop, (rs) => this.#response(rq, rs));
  }

  #response(rq: SipMessage, rs: SipMessage): void {
    const status = rs.status ?? 0;
    if (status < 200) {
      if (status === 100) return;
      if (!this.#provisional && this.#cancelled !== undefined) this.#sendCancel();
      this.#provisional = true;
      if (this.state === "early" && this.#cancelled === undefined)
        this.on.ringing?.(status, rs.content ? rs.content : undefined);
      return;
    }
    if (status < 300) {
      this.#ack(rq, rs);
      return;
    }
    if (this.state !== "early" || rq !== this.#invite) return;
    if ((status === 401 || status === 407) && this.opts.auth && !this.#challenged) {
      if (this.#retryWithAuth(rs, this.opts.auth)) return;
    }
    if (this.#cancelled !== undefined && status === 487) this.#fail(487, this.#cancelled, rs);
    else this.#fail(status, rs.reason ?? "", rs);
  }

  /** A 2xx to our INVITE: ACK it (each copy), and the first one answers the call, unless we cancelled. */
  #ack(rq: SipMessage, rs: SipMessage): void {
    const first = this.dialog === undefined;
    if (first) this.dialog = Dialog.uac(rq, rs, this.opts.flow);
    const dialog = this.dialog as Dialog;
    const ack = dialog.request("ACK", this.opts.contact, { cseq: rq.headers.cseq.seq });
    // The ACK of a 2xx goes where the dialog says (§13.2.2.4), with the INVITE's credentials.
    for (const name of ["authorization", "proxy-authorization"])
      if (rq.headers[name] !== undefined) ack.headers[name] = rq.headers[name];
    void dialog.hop(this.stack).then((hop) => {
      if (hop) this.stack.request(ack, hop);
    });
    if (!first) return;
    if (this.state === "ended") {
      // Answered after we gave up on it (408): ended at once.
      void dialog.send(this.stack, "BYE", this.opts.contact);
      return;
    }
    clearTimeout(this.#timer);
    if (this.#cancelled !== undefined) {
      // The 200 crossed our CANCEL: the call was answered and is ended at once (§9.1).
      this.on.failed?.(487, this.#cancelled);
      this.state = "confirmed";
      void this.bye();
      return;
    }
    this.state = "confirmed";
    this.on.answered?.(rs.content ? rs.content : undefined, rs);
  }

  /** The INVITE again with our answer to the challenge; false when the challenge cannot be answered. */
  #retryWithAuth(rs: SipMessage, auth: Credentials): boolean {
    const proxy = rs.status === 407;
    const text = authHeaderTexts(rs.headers[proxy ? "proxy-authenticate" : "www-authenticate"])[0];
    const challenge = parseChallenge(text ?? "");
    if (!challenge) return false;
    let header: string;
    try {
      header = authorization(challenge, auth, "INVITE", this.opts.uri, { body: this.opts.sdp });
    } catch {
      return false;
    }
    this.#challenged = true;
    const h = this.#invite.headers;
    this.#invite = {
      ...this.#invite,
      headers: {
        ...h,
        cseq: { method: "INVITE", seq: h.cseq.seq + 1 },
        via: [],
        [proxy ? "proxy-authorization" : "authorization"]: header,
      },
    };
    this.#provisional = false;
    this.#send(this.#invite);
    return true;
  }

  #sendCancel(): void {
    const invite = this.#invite;
    const via = invite.headers.via[0];
    if (!via?.params.branch) return;
    const cancel: SipMessage = {
      method: "CANCEL",
      uri: invite.uri as string,
      headers: {
        to: invite.headers.to,
        from: invite.headers.from,
        "call-id": invite.headers["call-id"],
        cseq: { method: "CANCEL", seq: invite.headers.cseq.seq },
        via: [{ ...via, params: { ...via.params } }],
        "max-forwards": 70,
        reason: `SIP ;cause=${this.#cancelCause} ;text="${(this.#cancelled ?? "").replace(/["\\\r\n]/g, "'")}"`,
      },
    };
    this.stack.request(cancel, this.opts.hop);
  }

  #timeout(): void {
    if (this.state !== "early") return;
    // Nothing at all came back: the callee is not there (408); else it rang too long (CANCEL → 487).
    if (!this.#provisional) {
      this.#cancelled = "No answer";
      this.#sendCancel();
      this.#fail(408, "No response to the INVITE");
      return;
    }
    this.cancel("No answer within the timeout");
  }

  #fail(status: number, reason: string, rs?: SipMessage): void {
    if (this.state !== "early") return;
    this.#close();
    this.on.failed?.(status, reason, rs);
  }

  #close(): void {
    clearTimeout(this.#timer);
    this.state = "ended";
    this.#closedResolve();
  }
}
