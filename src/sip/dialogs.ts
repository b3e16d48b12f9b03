// The dialog layer the npm `sip` package lacks, for inbound calls only (RFC 3261 §12-15): the UAS
// side of INVITE (100/180/200 with a To-tag, the 200 re-sent until its ACK, §13.3.1.4), CANCEL
// (487), BYE from either side, INFO (DTMF) and OPTIONS. The package gives transactions (it absorbs
// re-sent requests and re-sends non-2xx finals); only this file imports it, so the stack can be
// swapped without touching the gateway.
import { randomBytes } from "node:crypto";
import dgram from "node:dgram";
import * as sip from "sip";

const T1 = 500;
const T2 = 4000;
/** 64*T1: how long a 200 is re-sent without an ACK before the call is given up (§13.3.1.4). */
const ACK_WAIT = 64 * T1;

export interface DialogEvents {
  /** The caller cancelled before the answer (the INVITE got 487). */
  cancel(): void;
  /** The caller sent BYE. */
  bye(): void;
  /** A key the caller sent by SIP INFO. */
  info(key: string): void;
  /** The 200 was never acknowledged. */
  ackTimeout(): void;
}

/** One inbound call's dialog, as the gateway sees it. */
export class InboundDialog {
  readonly callId: string;
  /** The Request-URI's user part (the called number, as dialled). */
  readonly toUser: string;
  /** The From URI's user part, and the whole URI. */
  readonly fromUser: string;
  readonly fromUri: string;
  /** The caller's X-* headers, names in canonical case (`X-Customer-Id`). */
  readonly xHeaders: Record<string, string>;
  readonly sdpOffer: string;
  readonly sourceAddress: string;
  state: "early" | "answering" | "confirmed" | "ended" = "early";
  on: Partial<DialogEvents> = {};
  readonly #tag = randomBytes(6).toString("hex");
  #cseq = 1;
  #resend: NodeJS.Timeout | undefined;
  #acked: (() => void) | undefined;
  #closedResolve!: () => void;
  /** Resolves when the dialog is over (a final failure sent, or a BYE sent or received). */
  readonly closed = new Promise<void>((resolve) => {
    this.#closedResolve = resolve;
  });
  /** Settles when the 200 is acknowledged or given up on. */
  #confirmed: Promise<void> | undefined;

  constructor(
    private readonly stack: sip.SipStack,
    private readonly invite: sip.SipMessage,
    private readonly contact: string,
    remote: sip.Remote,
  ) {
    this.callId = invite.headers["call-id"];
    this.toUser = decodeURIComponent(sip.parseUri(invite.uri ?? "").user ?? "");
    this.fromUri = invite.headers.from.uri;
    this.fromUser = decodeURIComponent(sip.parseUri(this.fromUri).user ?? "");
    this.xHeaders = {};
    for (const [name, value] of Object.entries(invite.headers)) {
      if (name.startsWith("x-") && typeof value === "string") this.xHeaders[canonical(name)] = value;
    }
    this.sdpOffer = invite.content ?? "";
    this.sourceAddress = remote.address;
  }

  get localTag(): string {
    return this.#tag;
  }

  trying(): void {
    this.stack.send(sip.makeResponse(this.invite, 100, "Trying"));
  }

  ringing(): void {
    if (this.state === "early") this.#respond(180, "Ringing");
  }

  /** Sends 200 with the SDP answer, again and again (T1 doubling to T2) until the ACK; resolves on it. */
  answer(sdp: string): Promise<void> {
    if (this.state !== "early") return this.#confirmed ?? Promise.resolve();
    this.state = "answering";
    const ok = this.#respond(200, "OK", sdp);
    this.#confirmed = new Promise<void>((resolve) => {
      let interval = T1;
      const started = Date.now();
      const again = () => {
        if (Date.now() - started >= ACK_WAIT) {
          this.#acked = undefined;
          resolve();
          this.on.ackTimeout?.();
          return;
        }
        this.stack.send(ok);
        interval = Math.min(interval * 2, T2);
        this.#resend = setTimeout(again, interval);
      };
      this.#resend = setTimeout(again, interval);
      this.#acked = () => {
        clearTimeout(this.#resend);
        this.#acked = undefined;
        if (this.state === "answering") this.state = "confirmed";
        resolve();
      };
    });
    return this.#confirmed;
  }

  /** A final failure to the INVITE (486 busy, 603 decline, 487 cancelled…); the package re-sends it. */
  reject(status: number, reason: string): void {
    if (this.state !== "early") return;
    this.#close();
    this.#respond(status, reason);
  }

  /** Ends an answered call from our side; resolves on the BYE's final response (or its timeout). */
  async bye(): Promise<void> {
    if (this.state === "early") {
      this.reject(603, "Decline");
      return;
    }
    // A BYE may not overtake the ACK of our 200 (§15): it waits for the ACK, or for giving up on it.
    if (this.state === "answering") await this.#confirmed;
    if (this.state === "ended") return;
    clearTimeout(this.#resend);
    this.#acked = undefined;
    this.#close();
    const h = this.invite.headers;
    const target = h.contact?.[0]?.uri ?? h.from.uri;
    const routes = (h["record-route"] ?? []).map((r) => ({ ...r }));
    const bye: sip.SipMessage = {
      method: "BYE",
      uri: target,
      headers: {
        to: h.from,
        from: { ...h.to, params: { ...h.to.params, tag: this.#tag } },
        "call-id": this.callId,
        cseq: { method: "BYE", seq: this.#cseq++ },
        via: [],
        contact: [{ uri: this.contact, params: {} }],
        "max-forwards": 70,
        ...(routes.length > 0 && { route: routes }),
      },
    };
    return new Promise<void>((resolve) => {
      this.stack.send(bye, (rs) => {
        if ((rs.status ?? 0) >= 200) resolve();
      });
    });
  }

  /** Called by the dialog table for every in-dialog request of this call. */
  handle(rq: sip.SipMessage): void {
    switch (rq.method) {
      case "ACK":
        this.#acked?.();
        return;
      case "CANCEL":
        this.stack.send(sip.makeResponse(rq, 200, "OK"));
        if (this.state === "early") {
          this.reject(487, "Request Terminated");
          this.on.cancel?.();
        }
        return;
      case "BYE": {
        this.stack.send(sip.makeResponse(rq, 200, "OK"));
        if (this.state === "ended") return;
        clearTimeout(this.#resend);
        this.#acked = undefined;
        this.#close();
        this.on.bye?.();
        return;
      }
      case "INFO": {
        this.stack.send(sip.makeResponse(rq, 200, "OK"));
        const key = infoKey(String(rq.headers["content-type"] ?? ""), rq.content ?? "");
        if (key !== undefined) this.on.info?.(key);
        return;
      }
      case "INVITE":
        // A re-INVITE (hold, session refresh): keep the session as it is.
        this.stack.send(
          withTag(sip.makeResponse(rq, this.state === "ended" ? 481 : 488, "Not Acceptable Here"), this.#tag),
        );
        return;
      default:
        this.stack.send(sip.makeResponse(rq, rq.method === "OPTIONS" ? 200 : 405, "OK"));
    }
  }

  #close(): void {
    this.state = "ended";
    this.#closedResolve();
  }

  #respond(status: number, reason: string, sdp?: string): sip.SipMessage {
    const rs = withTag(sip.makeResponse(this.invite, status, reason), this.#tag);
    rs.headers.contact = [{ uri: this.contact, params: {} }];
    if (sdp !== undefined) {
      rs.headers["content-type"] = "application/sdp";
      rs.content = sdp;
    }
    this.stack.send(rs);
    return rs;
  }
}

/** The SIP stack and its table of inbound dialogs by Call-ID. */
export class SipDialogs {
  readonly #dialogs = new Map<string, InboundDialog>();
  readonly #stack: sip.SipStack;
  readonly #contact: string;

  constructor(
    opts: { address: string; port: number; onError?: (err: unknown) => void },
    private readonly onInvite: (dialog: InboundDialog) => void,
  ) {
    this.#contact = `sip:switchboard@${opts.address}:${opts.port}`;
    // The package sends on its UDP socket without an 'error' listener, so one failed send (no route
    // to a phone's Contact) would crash the process: give the socket it creates a listener.
    const createSocket = dgram.createSocket;
    dgram.createSocket = ((...args: Parameters<typeof createSocket>) =>
      createSocket(...args).on("error", (err) => opts.onError?.(err))) as typeof createSocket;
    try {
      this.#stack = sip.create(
        {
          address: opts.address,
          port: opts.port,
          tcp: false,
          logger: { error: opts.onError ?? (() => {}) },
        },
        (rq, remote) => this.#request(rq, remote),
      );
    } finally {
      dgram.createSocket = createSocket;
    }
  }

  get size(): number {
    return this.#dialogs.size;
  }

  /** Forgets a call's dialog once the call is over (its transactions finish on their own). */
  forget(dialog: InboundDialog): void {
    if (this.#dialogs.get(dialog.callId) === dialog) this.#dialogs.delete(dialog.callId);
  }

  stop(): void {
    this.#stack.destroy();
  }

  #request(rq: sip.SipMessage, remote: sip.Remote): void {
    const callId = rq.headers["call-id"];
    const dialog = this.#dialogs.get(callId);
    if (dialog) {
      dialog.handle(rq);
      return;
    }
    if (rq.method === "INVITE" && !rq.headers.to.params.tag) {
      const fresh = new InboundDialog(this.#stack, rq, this.#contact, remote);
      this.#dialogs.set(callId, fresh);
      fresh.trying();
      this.onInvite(fresh);
      return;
    }
    if (rq.method === "ACK") return;
    if (rq.method === "OPTIONS") this.#stack.send(sip.makeResponse(rq, 200, "OK"));
    else this.#stack.send(sip.makeResponse(rq, 481, "Call/Transaction Does Not Exist"));
  }
}

function withTag(rs: sip.SipMessage, tag: string): sip.SipMessage {
  rs.headers.to = { ...rs.headers.to, params: { ...rs.headers.to.params, tag } };
  return rs;
}

/** `x-customer-id` -> `X-Customer-Id`: the package lower-cases header names. */
function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** The key in an INFO body: `application/dtmf-relay` (`Signal=5`) or `application/dtmf` (`5`). */
export function infoKey(contentType: string, body: string): string | undefined {
  const type = contentType.toLowerCase();
  let raw: string | undefined;
  if (type.startsWith("application/dtmf-relay")) raw = /signal\s*=\s*(\S+)/i.exec(body)?.[1];
  else if (type.startsWith("application/dtmf")) raw = body.trim();
  if (raw === undefined) return undefined;
  // Some phones send the telephone-event code (10 = *, 11 = #) instead of the key.
  if (raw === "10") return "*";
  if (raw === "11") return "#";
  return /^[0-9*#A-Da-d]$/.test(raw) ? raw.toUpperCase() : undefined;
}
