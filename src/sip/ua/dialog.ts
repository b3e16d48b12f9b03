// A SIP dialog (RFC 3261 §12): its identifiers, the remote target and the route set, and the
// requests sent inside it (§12.2.1.1). Side-neutral: an inbound call makes one from the INVITE it
// answers (uas); an outbound leg makes one from the 2xx it receives (uac).
import { behindNat } from "../media/private-address.js";
import type { Hop, NameAddr, Remote, SipMessage, SipStack } from "./stack.js";
import { makeResponse, parseUri } from "./stack.js";

export interface RequestExtras {
  headers?: Record<string, unknown>;
  content?: string;
  cseq?: number;
}

export class Dialog {
  #cseq: number;
  /**
   * Where our requests go instead of the remote target, with no proxy on the path: the flow the peer
   * is reached on. For a caller, its INVITE's source while its Contact names an address behind NAT
   * that is not it and the source is not behind NAT itself (a softphone at home, reached through its
   * NAT as responses are, RFC 3581; Asterisk's rewrite_contact and Kamailio's fix_nated_contact do the
   * same). For a registered phone we call, always where its REGISTER came from (RFC 5626's flow).
   */
  #flow: { hop: Hop; always: boolean } | undefined;
  /** The highest CSeq the peer has used: a lower one is out of order (§12.2.2). */
  remoteCseq: number;

  private constructor(
    readonly callId: string,
    /** Our From (uac) or To (uas), with our tag. */
    readonly local: NameAddr,
    /** The peer's. */
    readonly remote: NameAddr,
    /** Where in-dialog requests go: the peer's Contact, updated by target refreshes (§12.2). */
    public remoteTarget: string,
    /** Proxies that asked to stay on the path (Record-Route), in the order our requests pass them. */
    readonly routeSet: readonly NameAddr[],
    localCseq: number,
    remoteCseq: number,
  ) {
    this.#cseq = localCseq;
    this.remoteCseq = remoteCseq;
  }

  /**
   * The dialog a UAS makes with its response to `invite` (§12.1.1): the route set is Record-Route as
   * received. `source` is where the INVITE came from.
   */
  static uas(invite: SipMessage, localTag: string, source?: Remote): Dialog {
    const h = invite.headers;
    const dialog = new Dialog(
      h["call-id"],
      { ...h.to, params: { ...h.to.params, tag: localTag } },
      h.from,
      h.contact?.[0]?.uri ?? h.from.uri,
      (h["record-route"] ?? []).map((r) => ({ ...r, params: { ...r.params } })),
      1,
      h.cseq.seq,
    );
    if (source && dialog.routeSet.length === 0 && !behindNat(source.address))
      dialog.#flow = { hop: hopOf(source), always: false };
    return dialog;
  }

  /**
   * The dialog a UAC makes from a 2xx or 1xx with a To-tag (§12.1.2): the route set is Record-Route
   * reversed. `flow`: where every request of it goes with no proxy on the path (a registered phone's).
   */
  static uac(request: SipMessage, response: SipMessage, flow?: Hop): Dialog {
    const h = response.headers;
    const dialog = new Dialog(
      h["call-id"],
      request.headers.from,
      h.to,
      h.contact?.[0]?.uri ?? request.uri ?? h.to.uri,
      (h["record-route"] ?? []).map((r) => ({ ...r, params: { ...r.params } })).reverse(),
      request.headers.cseq.seq + 1,
      0,
    );
    if (flow && dialog.routeSet.length === 0) dialog.#flow = { hop: flow, always: true };
    return dialog;
  }

  get localTag(): string {
    return String(this.local.params.tag ?? "");
  }

  /** A new request in this dialog, addressed as §12.2.1.1 says (loose or strict routing). */
  request(method: string, contact: string, extra: RequestExtras = {}): SipMessage {
    const first = this.routeSet[0];
    const strict = first !== undefined && parseUri(first.uri)?.params.lr === undefined;
    // A strict router (RFC 2543) takes the request in its Request-URI; the remote target goes last.
    const uri = strict ? first.uri : this.remoteTarget;
    const route = strict
      ? [...this.routeSet.slice(1), { uri: this.remoteTarget, params: {} }]
      : [...this.routeSet];
    const rq: SipMessage = {
      method,
      uri,
      headers: {
        to: this.remote,
        from: this.local,
        "call-id": this.callId,
        // An ACK carries its INVITE's number (§13.2.2.4): the caller gives it.
        cseq: { method, seq: extra.cseq ?? this.#cseq++ },
        via: [],
        contact: [{ uri: contact, params: {} }],
        "max-forwards": 70,
        ...(route.length > 0 && { route }),
        ...extra.headers,
      },
    };
    if (extra.content !== undefined) rq.content = extra.content;
    return rq;
  }

  /** Where a request of this dialog goes first: the first route, else the remote target (§12.2.1.1). */
  nextHop(): string {
    return this.routeSet[0]?.uri ?? this.remoteTarget;
  }

  /** The hop a request of this dialog is sent to: the peer's flow (#flow) when it applies, else the next hop resolved. */
  async hop(stack: SipStack): Promise<Hop | undefined> {
    const flow = this.#flow;
    if (flow && this.routeSet.length === 0) {
      if (flow.always) return flow.hop;
      const host = parseUri(this.remoteTarget)?.host;
      if (host && host !== flow.hop.address && behindNat(host)) return flow.hop;
    }
    return stack.resolve(this.nextHop());
  }

  /**
   * Sends a request in this dialog; resolves with its final response (503 when its next hop cannot
   * be resolved or reached, 408 when it never answers).
   */
  async send(
    stack: SipStack,
    method: string,
    contact: string,
    extra: RequestExtras = {},
  ): Promise<SipMessage> {
    const rq = this.request(method, contact, extra);
    const hop = await this.hop(stack);
    if (!hop) return makeResponse(rq, 503, "Service Unavailable");
    return new Promise((resolve) => {
      stack.request(rq, hop, (rs) => {
        if ((rs.status ?? 0) >= 200) resolve(rs);
      });
    });
  }
}

/** Where to send to reach the peer a request came from: its source. */
export function hopOf(source: Remote): Hop {
  return { protocol: source.protocol, address: source.address, port: source.port };
}
