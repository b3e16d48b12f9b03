// The gateway's SIP front door: the stack (UDP and TCP), the table of inbound dialogs by Call-ID, and
// the policy for requests outside a dialog — who may call (403, or a digest challenge: 401), what is
// malformed (400), which methods (405, 501) and extensions (420) are taken — before an INVITE
// becomes a call.

import { FailureLimiter } from "../util/failure-limiter.js";
import type { InboundAccess } from "./inbound-access.js";
import { RecentAddresses } from "./recent-addresses.js";
import { register } from "./registrar.js";
import type { Registrations } from "./registrations.js";
import { frameBody } from "./ua/body-length.js";
import type { DigestCheck } from "./ua/digest-check.js";
import { InboundDialog, sessionTimer } from "./ua/inbound-dialog.js";
import { ALLOW, rejection, response, SUPPORTED, unsupportedRequire } from "./ua/responses.js";
import { parseUri, type Remote, type SipMessage, SipStack } from "./ua/stack.js";
import { decodeUser } from "./ua/uris.js";
import { xHeadersOf } from "./x-headers.js";

/** What the gateway reads from a new INVITE. */
export interface InviteInfo {
  /** The Request-URI's user part (the called number, as dialled). */
  readonly toUser: string;
  /** The From URI's user part, and the whole URI. */
  readonly fromUser: string;
  readonly fromUri: string;
  /** The caller's X-* headers, names in canonical case (`X-Customer-Id`). */
  readonly xHeaders: Record<string, string>;
}

/** A session in the table: an inbound call's dialog, or an outbound leg's (its in-dialog requests). */
export interface TrackedDialog {
  readonly callId: string;
  /** A leg rung at several phones: each phone's Call-ID (callId alone otherwise). */
  readonly callIds?: readonly string[];
  handle(rq: SipMessage): void;
}

/** Methods a SIP UA may send that the gateway knows but does not take outside a dialog (405, not 501). */
const KNOWN = new Set(["REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "REFER", "PUBLISH", "PRACK"]);

export interface SipDialogsOptions {
  address: string;
  port: number;
  /** The host in Contact and Via (behind NAT, the public one); default `address`. */
  advertise?: string;
  /** Who may send requests outside a dialog. */
  access: InboundAccess;
  /** Callers outside `access` who may place calls by digest authentication (`--digest-users`). */
  digest?: DigestCheck;
  /** Where the digest users' phones registered (REGISTER is taken only with `digest`). */
  registrations?: Registrations;
  onError?: (err: unknown) => void;
  /** A request refused before it became a call (for the log). */
  onRefused?: (why: { status: number; method: string; source: string; text: string }) => void;
  /** A message whose framing cannot be trusted: a TCP connection closed, a response dropped (stack.ts). */
  onBadFraming?: (why: string, peer: string) => void;
  /** A TCP connection refused at once: too many from outside --allow (connection-limits.ts). */
  onRefusedConnection?: (why: string, peer: string) => void;
  /** A caller outside --allow authenticated (for the log: which credential placed a call). */
  onAuthenticated?: (who: { user: string; realm: string; source: string; callId: string }) => void;
  /** A phone registered, re-registered or unregistered (for the log). */
  onRegistered?: (what: { aor: string; contacts: number; source: string }) => void;
  /** How wrong digest answers are counted (default: 10 a minute from one address). */
  guesses?: FailureLimiter;
}

export class SipDialogs {
  readonly #dialogs = new Map<string, TrackedDialog>();
  /** Addresses a caller authenticated from lately: their TCP connections are not counted as strangers'. */
  readonly #authenticated = new RecentAddresses();
  /** Wrong digest answers by address: ten a minute, then that address is refused a while. */
  readonly #guesses: FailureLimiter;
  readonly #stack: SipStack;
  readonly contact: string;

  constructor(
    private readonly opts: SipDialogsOptions,
    private readonly onInvite: (dialog: InboundDialog, info: InviteInfo) => void,
  ) {
    this.contact = `sip:switchboard@${opts.advertise ?? opts.address}:${opts.port}`;
    this.#guesses = opts.guesses ?? new FailureLimiter();
    this.#stack = new SipStack(
      {
        address: opts.address,
        port: opts.port,
        ...(opts.advertise && { advertise: opts.advertise }),
        tcp: true,
        onError: opts.onError ?? (() => {}),
        onBadFraming: opts.onBadFraming ?? (() => {}),
        trusted: (address) => opts.access.allows(address) || this.#authenticated.has(address),
        onRefusedConnection: opts.onRefusedConnection ?? (() => {}),
      },
      (rq, remote) => this.#request(rq, remote),
    );
  }

  get size(): number {
    return this.#dialogs.size;
  }

  /** The stack, for an outbound leg's requests. */
  get stack(): SipStack {
    return this.#stack;
  }

  /** Routes the requests of an outbound leg's session (by its Call-ID) to it. */
  track(dialog: TrackedDialog): void {
    for (const callId of dialog.callIds ?? [dialog.callId]) this.#dialogs.set(callId, dialog);
  }

  /** Forgets a call's dialog once the call is over (its transactions finish on their own). */
  forget(dialog: TrackedDialog): void {
    for (const callId of dialog.callIds ?? [dialog.callId])
      if (this.#dialogs.get(callId) === dialog) this.#dialogs.delete(callId);
  }

  stop(): void {
    this.#stack.destroy();
  }

  #request(rq: SipMessage, remote: Remote): void {
    const method = rq.method ?? "";
    const dialog = this.#dialogs.get(rq.headers["call-id"]);
    if (method === "ACK") {
      // An ACK is never answered: one whose body does not fit its Content-Length is dropped (§18.3).
      if (frameBody(rq) === undefined) dialog?.handle(rq);
      return;
    }
    const refusal = this.#refusal(rq, remote, dialog !== undefined);
    if (refusal) {
      const [status, text, headers] = refusal;
      // A challenge is how every authenticated call starts: not a refusal worth a log line.
      if (status !== 401) this.opts.onRefused?.({ status, method, source: remote.address, text });
      this.#stack.respond(rejection(rq, status, text, headers));
      return;
    }
    if (dialog) {
      dialog.handle(rq);
      return;
    }
    if (method === "OPTIONS") {
      this.#stack.respond(response(rq, 200, { allow: this.#allow, supported: SUPPORTED.join(", ") }));
      return;
    }
    if (method === "REGISTER") {
      this.#register(rq, remote);
      return;
    }
    const fresh = new InboundDialog(this.#stack, rq, this.contact, remote);
    this.#dialogs.set(fresh.callId, fresh);
    fresh.trying();
    this.onInvite(fresh, readInvite(rq) as InviteInfo);
  }

  /** Why a request is refused before it reaches a dialog or becomes a call, if it is. */
  #refusal(
    rq: SipMessage,
    remote: Remote,
    inDialog: boolean,
  ): [number, string, Record<string, unknown>?] | undefined {
    const method = rq.method ?? "";
    const framing = frameBody(rq);
    if (framing !== undefined) return [400, framing];
    const unknown = unsupportedRequire(rq);
    if (unknown.length > 0 && method !== "CANCEL")
      return [420, `Unsupported extension ${unknown.join(", ")}`, { unsupported: unknown.join(", ") }];
    if (inDialog) return undefined;
    // Anyone may try to register: the registrar authenticates every REGISTER, --allow or not (an
    // address guessing passwords aside).
    if (method === "REGISTER" && this.#registrar) return this.#guessing(remote);
    const stranger = !this.opts.access.allows(remote.address);
    const forbidden: [number, string] = [403, `${remote.address} may not place calls through this gateway`];
    // Only a new INVITE may authenticate; a stranger's other requests are refused at once.
    if (stranger && (!this.opts.digest || method !== "INVITE" || rq.headers.to.params.tag !== undefined))
      return forbidden;
    if (rq.headers.to.params.tag !== undefined || method === "CANCEL" || method === "BYE")
      return [481, "No such call"];
    if (method === "OPTIONS") return undefined;
    if (method !== "INVITE") {
      if (KNOWN.has(method) || method === "INFO" || method === "UPDATE")
        return [405, `${method} is not taken outside a call`, { allow: this.#allow }];
      return [501, `${method} is not implemented`, { allow: this.#allow }];
    }
    // A tel: URI or any scheme but sip/sips: 416 (§8.2.2.1), not a malformed request.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(rq.uri ?? "")?.[1]?.toLowerCase();
    if (scheme !== undefined && scheme !== "sip" && scheme !== "sips")
      return [416, `${scheme}: URIs are not taken; use sip:`];
    const info = readInvite(rq);
    if (typeof info === "string") return [400, info];
    if ("status" in sessionTimer(rq)) return [422, "Session interval too small", { "min-se": "90" }];
    // Last, so that an answer's nonce count is spent only on an INVITE nothing else refuses.
    return stranger ? this.#authenticate(rq, remote) : undefined;
  }

  /** 403 with Retry-After for an address that answered wrong too often lately; its answers go unread. */
  #guessing(remote: Remote): [number, string, Record<string, unknown>] | undefined {
    const wait = this.#guesses.retryAfter([remote.address]);
    if (wait === 0) return undefined;
    return [
      403,
      `Too many wrong answers from ${remote.address}; retry in ${wait} s`,
      { "retry-after": String(wait) },
    ];
  }

  /** The methods taken outside a call: REGISTER too with a registrar. */
  get #allow(): string {
    return this.#registrar ? `${ALLOW}, REGISTER` : ALLOW;
  }

  get #registrar(): { digest: DigestCheck; registrations: Registrations } | undefined {
    const { digest, registrations } = this.opts;
    return digest && registrations ? { digest, registrations } : undefined;
  }

  /** A REGISTER (#refusal let it through only with a registrar). */
  #register(rq: SipMessage, remote: Remote): void {
    const registrar = this.#registrar;
    if (!registrar) return;
    const outcome = register(rq, remote, {
      ...registrar,
      hold: (source, closed) => this.#stack.hold(source, closed),
    });
    const rs = outcome.response;
    const status = rs.status ?? 0;
    if (status >= 300 && status !== 401) {
      const text = String(rs.headers.reason ?? "");
      this.opts.onRefused?.({ status, method: "REGISTER", source: remote.address, text });
    }
    if (status === 200) this.#authenticated.add(remote.address);
    if (outcome.failedAuthentication) this.#guesses.fail([remote.address]);
    if (outcome.registered) this.opts.onRegistered?.({ ...outcome.registered, source: remote.address });
    this.#stack.respond(rs);
  }

  /**
   * A new INVITE from outside --allow, with digest users: challenged (RFC 3261 §22.2), and taken once
   * it answers right.
   */
  #authenticate(rq: SipMessage, remote: Remote): [number, string, Record<string, unknown>?] | undefined {
    const digest = this.opts.digest as DigestCheck;
    const realm = digest.realmFor(parseUri(rq.uri ?? "")?.host);
    // Every user removed: no one may.
    if (realm === undefined) return [403, `${remote.address} may not place calls through this gateway`];
    const guessing = this.#guessing(remote);
    if (guessing) return guessing;
    const verdict = digest.check(rq, realm, remote.address);
    if (verdict.kind === "ok") {
      this.#authenticated.add(remote.address);
      this.opts.onAuthenticated?.({
        user: verdict.user,
        realm,
        source: remote.address,
        callId: rq.headers["call-id"],
      });
      return undefined;
    }
    if (verdict.kind === "refused") {
      this.#guesses.fail([remote.address]);
      return [403, `Authentication failed: ${verdict.why}`];
    }
    return [
      401,
      "Unauthorized",
      { "www-authenticate": [digest.challenge(realm, verdict.stale, remote.address)] },
    ];
  }
}

/** The INVITE's called number, caller and X- headers; a string says what is malformed (400). */
function readInvite(rq: SipMessage): InviteInfo | string {
  const target = parseUri(rq.uri ?? "");
  if (!target || !/^sips?$/i.test(target.schema ?? "") || !target.host) return "Malformed Request-URI";
  const toUser = decodeUser(target.user ?? "");
  if (toUser === undefined || toUser === "") return "Malformed Request-URI: no number";
  const fromUri = rq.headers.from?.uri ?? "";
  const from = parseUri(fromUri);
  if (!from?.host) return "Malformed From";
  const fromUser = decodeUser(from.user ?? "");
  if (fromUser === undefined) return "Malformed From";
  return { toUser, fromUser, fromUri, xHeaders: xHeadersOf(rq) };
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
