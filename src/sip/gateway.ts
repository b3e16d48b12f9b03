// The SIP gateway: a SIP user agent server on UDP and TCP that turns each INVITE from an allowed
// network into a call offer on its edge, names itself in the offer so the call's region sends its
// channel commands here, and carries those out on the call's RTP session (docs/sip.md).
import type { Socket } from "node:dgram";
import {
  type Msg,
  NoRespondersError,
  RequestError,
  type Subscription,
  TimeoutError,
} from "@nats-io/transport-node";
import { fail, toSwitchboardError } from "../errors/switchboard-error.js";
import { newSid } from "../model/sid.js";
import { type ChannelIn, readChannelOut } from "../protocol/channel-events.js";
import { decode, encode, encodingOf } from "../protocol/codec.js";
import type { Offer } from "../protocol/offer.js";
import { offerCall } from "../protocol/offer.js";
import { respondError, respondValue } from "../protocol/service-error.js";
import { SipCommandSchema } from "../protocol/sip-commands.js";
import { subjects } from "../protocol/subjects.js";
import { WebhookClient } from "../webhook/client.js";
import { dialogLog } from "./dialog-log.js";
import { type InviteInfo, infoKey, SipDialogs, type TrackedDialog } from "./dialogs.js";
import { endCallsWithinGrace } from "./end-calls.js";
import type { GatewayOptions } from "./gateway-options.js";
import { InboundAccess } from "./inbound-access.js";
import { callerId, e164 } from "./invite-numbers.js";
import { LegStates } from "./leg-states.js";
import { AudioFetcher } from "./media/fetch-audio.js";
import { FinishedRecordings } from "./media/finished-recordings.js";
import { Pacer } from "./media/pacer.js";
import { GatewayRooms } from "./media/room-mix.js";
import { RtpSession } from "./media/rtp-session.js";
import { type LegContext, originate } from "./outbound-legs.js";
import { assertTcpFree, assertUdpFree, RtpPorts } from "./ports.js";
import { RegisteredPhones } from "./registered-phones.js";
import { SdpSession } from "./sdp-session.js";
import { type CallDialog, SipCall, type SipCallDeps } from "./sip-call.js";
import { recogniserFrom } from "./speech/engines.js";
import type { Recogniser } from "./speech/recogniser.js";
import { Transcripts } from "./speech/transcripts.js";
import { synthesiserFrom } from "./tts/engines.js";
import { Prompts } from "./tts/prompts.js";
import type { InboundDialog } from "./ua/inbound-dialog.js";
import { fitHeaders } from "./x-headers.js";

export type { GatewayOptions } from "./gateway-options.js";

/** The offer's headers must fit its schema (names ≤ 128, values ≤ 1024 chars) and its 16 KiB limit. */
const MAX_HEADER_BYTES = 8 * 1024;

export class SipGateway {
  readonly calls = new Map<string, SipCall>();
  /** Called when a call has been offered to the edge (its CallSid is the region's). */
  onCall: ((callSid: string) => void) | undefined;
  readonly #prompts: Prompts;
  readonly #recogniser: Recogniser;
  readonly #transcripts: Transcripts;
  // The gateway's own: made here, closed by stop().
  readonly #web: WebhookClient;
  readonly #fetcher: AudioFetcher;
  readonly #recordings = new FinishedRecordings();
  readonly #subjects;
  #sip: SipDialogs | undefined;
  #subs: Subscription[] = [];
  /** Paces every call's RTP frames. */
  readonly #pacer = new Pacer();
  readonly #rooms: GatewayRooms;
  readonly access: InboundAccess;
  readonly #rtpPorts: RtpPorts;
  #sessionId = Date.now() % 1_000_000_000;
  #stopping = false;
  /** What the outbound legs placed here reported, for `leg-state`. */
  readonly #legStates = new LegStates();
  /** Where the digest users' phones registered (with `digest` only). */
  #phones: RegisteredPhones | undefined;

  private constructor(private readonly opts: GatewayOptions) {
    this.#subjects = subjects(opts.prefix);
    this.#web = new WebhookClient(opts.egress ? { egress: opts.egress } : {});
    this.#fetcher = new AudioFetcher(this.#web);
    this.#prompts = new Prompts(synthesiserFrom(opts.tts ?? { kind: "espeak-ng" }, this.#web));
    this.#rtpPorts = new RtpPorts(opts.rtpPorts, opts.address);
    this.access = opts.access ?? new InboundAccess();
    this.#rooms = new GatewayRooms(opts.nc, this.#subjects, this.#pacer, opts.log);
    this.#recogniser = opts.recogniser ?? recogniserFrom(undefined);
    this.#transcripts = new Transcripts(this.#recogniser, opts.log);
  }

  static async start(opts: GatewayOptions): Promise<SipGateway> {
    const gw = new SipGateway(opts);
    // The sip package binds without reporting failure (an unhandled 'error' would crash): check first.
    await assertUdpFree(opts.address, opts.port);
    await assertTcpFree(opts.address, opts.port);
    if (opts.digest)
      gw.#phones = await RegisteredPhones.restore({
        digest: opts.digest,
        log: opts.log,
        ...(opts.registrationStore && { store: opts.registrationStore }),
        ...(opts.phonePings !== undefined && { pings: opts.phonePings }),
        ...(opts.realmAccounts && { realmAccounts: opts.realmAccounts }),
      });
    gw.#subs.push(
      opts.nc.subscribe(gw.#subjects.sipAllCommands(opts.id), {
        callback: (err, msg) => {
          if (err) return;
          const sid = msg.subject.split(".").at(-2) ?? "";
          void gw.#command(sid, msg);
        },
      }),
    );
    gw.#sip = new SipDialogs(
      {
        address: opts.address,
        port: opts.port,
        ...(opts.advertise && { advertise: opts.advertise }),
        access: gw.access,
        ...(opts.digest && gw.#phones && { digest: opts.digest, registrations: gw.#phones.registrations }),
        ...dialogLog(opts.log),
      },
      (dialog, info) => void gw.#invite(dialog, info),
    );
    gw.#phones?.startPings(
      gw.#sip.stack,
      `sip:switchboard@${opts.advertise ?? opts.address}`,
      gw.#sip.contact,
    );
    // Legs for calls on this gateway (a Dial), and for any gateway (a REST outbound call).
    const legs = gw.#legContext(gw.#sip);
    const place = (err: unknown, msg: Msg) => {
      if (!err)
        void originate(legs, msg).catch((e: unknown) => opts.log.warn({ err: e }, "originate failed"));
    };
    gw.#subs.push(
      opts.nc.subscribe(gw.#subjects.sipOriginate(opts.id), { callback: place }),
      opts.nc.subscribe(gw.#subjects.sipAnyOriginate(), { queue: "gateways", callback: place }),
    );
    return gw;
  }

  #legContext(sip: SipDialogs): LegContext {
    return {
      nc: this.opts.nc,
      subjects: this.#subjects,
      gateway: this.opts.id,
      log: this.opts.log,
      sip,
      pacer: this.#pacer,
      mediaAddress: this.mediaAddress,
      fromHost: this.opts.advertise ?? this.opts.address,
      stopping: () => this.#stopping,
      allocateRtp: () => this.#rtpPorts.allocate(),
      mayCall: (address) => this.access.allows(address),
      nextSessionId: () => ++this.#sessionId,
      newCall: (deps) => this.#newCall(deps),
      call: (sid) => this.calls.get(sid),
      trunk: (name) => this.opts.trunks?.get(name),
      recordings: this.#recordings,
      legs: this.#legStates,
      registered: (uri, accountSid) => this.#phones?.target(uri, accountSid),
    };
  }

  /**
   * A call of this gateway, inbound or an outbound leg: in `calls` until it is over, its SIP side
   * ended when the region says on `.out` that the call is over, whatever the reason.
   */
  #newCall(
    deps: Pick<SipCallDeps, "callSid" | "rtp" | "answerSdp" | "input"> & {
      dialog: CallDialog & TrackedDialog & { closed: Promise<void> };
    },
  ): SipCall {
    const { callSid, dialog } = deps;
    const call = new SipCall({
      ...deps,
      prompts: this.#prompts,
      fetcher: this.#fetcher,
      recordings: this.#recordings,
      web: this.#web,
      recogniser: this.#recogniser,
      transcripts: this.#transcripts,
      rooms: this.#rooms,
      log: this.opts.log,
      call: (sid) => this.calls.get(sid),
    });
    const ended = this.opts.nc.subscribe(this.#subjects.anyCallOut(callSid), {
      callback: (err, msg) => {
        if (err) return;
        try {
          if (readChannelOut(decode(msg.data))?.kind === "ended") call.regionEnded();
        } catch {
          // not ours to judge: the region validates what it publishes
        }
      },
    });
    call.onEnded = () => {
      ended.unsubscribe();
      this.calls.delete(callSid);
      // The dialog stays until it is over: an ACK or a BYE may still be on its way.
      void dialog.closed.then(() => this.#sip?.forget(dialog));
    };
    this.calls.set(callSid, call);
    return call;
  }

  get mediaAddress(): string {
    return this.opts.mediaAddress ?? this.opts.advertise ?? this.opts.address;
  }

  /** Stops taking calls; ends the live ones (BYE, end-calls.ts) and closes the SIP socket. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#subs.map((sub) => sub.drain()));
    await endCallsWithinGrace(this.calls, this.opts.log);
    this.#pacer.stop();
    await this.#phones?.stop();
    this.#sip?.stop();
    await this.#web.close();
  }

  async #command(callSid: string, msg: Msg): Promise<void> {
    let cmd: ReturnType<typeof SipCommandSchema.parse>;
    try {
      const parsed = SipCommandSchema.safeParse(decode(msg.data, encodingOf(msg.headers)));
      if (!parsed.success)
        throw fail("invalidPayload", `invalid SIP command: ${parsed.error.issues[0]?.message}`);
      cmd = parsed.data;
    } catch (err) {
      respondError(msg, err);
      return;
    }
    // Answered for a leg that ended too: a resumed call asks what it missed.
    if (cmd.op === "leg-state") {
      const state = this.#legStates.of(callSid);
      if (state) respondValue(msg, state);
      else
        respondError(msg, fail("sipCallGone", `no outbound leg ${callSid} on SIP gateway ${this.opts.id}`));
      return;
    }
    const call = this.calls.get(callSid);
    if (call) return call.handle(msg, cmd);
    if (cmd.op === "fetch" || cmd.op === "transcribe") {
      try {
        respondValue(
          msg,
          cmd.op === "fetch"
            ? this.#recordings.slice(cmd.id, cmd.offset)
            : await this.#transcripts.reply(cmd.id),
        );
      } catch (err) {
        respondError(msg, err);
      }
      return;
    }
    // Ending a call that is already over is done; anything else about it is too late.
    if (cmd.op === "hangup" || cmd.op === "reject" || cmd.op === "stop") respondValue(msg, {});
    else respondError(msg, fail("sipCallGone", `call ${callSid} is not on SIP gateway ${this.opts.id}`));
  }

  async #invite(dialog: InboundDialog, info: InviteInfo): Promise<void> {
    const { log } = this.opts;
    if (this.#stopping) {
      dialog.reject(503, "The gateway is stopping");
      this.#sip?.forget(dialog);
      return;
    }
    // No SDP: the caller wants our offer in the 200, and answers in its ACK.
    const offer = dialog.sdpOffer === "" ? undefined : SdpSession.read(dialog.sdpOffer);
    if (offer && "refused" in offer) {
      dialog.reject(488, offer.refused);
      this.#sip?.forget(dialog);
      return;
    }
    let socket: Socket;
    try {
      socket = await this.#rtpPorts.allocate();
    } catch (err) {
      log.warn({ err }, "no RTP port free");
      dialog.reject(503, "No RTP port free");
      this.#sip?.forget(dialog);
      return;
    }
    const callSid = newSid("CA");
    let region: string | undefined;
    const pendingInput: ChannelIn[] = [];
    const input = (event: ChannelIn) => {
      if (region) this.opts.nc.publish(this.#subjects.callIn(region, callSid), encode(event));
      else pendingInput.push(event);
    };
    let call: SipCall | undefined;
    const rtp = new RtpSession(
      socket,
      this.#pacer,
      offer?.chosen.remote,
      offer?.chosen.media ?? { codec: "PCMU", codecPt: 0, dtmfPt: 101 },
      {
        key: (k) => call?.key(k),
        audio: (packet, pcm) => call?.audio(packet, pcm),
        hears: () => call?.hearing ?? false,
        sent: (pcm) => call?.sent(pcm),
        stranger: (address) => log.warn({ callSid, address }, "RTP from a stranger dropped"),
      },
      // Beside its SDP's address: the caller's signalling address (behind NAT), and who may call.
      (address) => address === dialog.source.address || this.access.allows(address),
    );
    const session = new SdpSession(rtp, this.mediaAddress, ++this.#sessionId);
    const answerSdp = offer ? session.answer(offer.streams, offer.chosen) : session.offer();
    call = this.#newCall({ callSid, dialog, rtp, answerSdp, input });
    dialog.on = {
      bye: () => call?.callerEnded("bye"),
      cancel: () => call?.callerEnded("cancel"),
      ackTimeout: () => {
        call?.callerEnded("no ACK");
        dialog.bye().catch((err: unknown) => this.opts.log.warn({ err }, "BYE after a missing ACK failed"));
      },
      info: (type, body) => {
        const k = infoKey(type, body);
        if (k !== undefined) call?.key(k);
      },
      offer: (sdp) => session.reoffer(sdp),
      currentOffer: () => session.offer(),
      answer: (sdp) => {
        if (!session.answered(sdp))
          log.warn({ callSid, callId: dialog.callId }, "the ACK's SDP answer has no G.711 audio");
      },
    };
    // A CANCEL that came while the RTP port was being bound has ended the dialog already.
    if (dialog.state === "ended") call.callerEnded("cancel");
    const sipOffer: Offer = {
      to: e164(info.toUser),
      from: callerId(info),
      callSid,
      sipHeaders: fitHeaders(info.xHeaders, { maxBytes: MAX_HEADER_BYTES }),
      sip: { gateway: this.opts.id, callId: dialog.callId, sourceIp: dialog.source.address },
    };
    try {
      const reply = await offerCall(
        this.opts.nc,
        this.opts.edge,
        sipOffer,
        this.opts.prefix ? { prefix: this.opts.prefix } : {},
      );
      region = reply.region;
      for (const event of pendingInput.splice(0)) input(event);
      log.info({ callSid, region, callId: dialog.callId, to: sipOffer.to }, "SIP call offered");
      this.onCall?.(callSid);
    } catch (err) {
      const e = toSwitchboardError(err);
      // A region that did not take the call is an operator's problem; a wrong number is the caller's.
      log[e.code === 90003 ? "warn" : "info"](
        { callSid, code: e.code, err: e },
        "SIP call refused by the edge",
      );
      // 21211/20404: no such number; 90003: its region is down, and an edge that does not answer (no
      // edge, or one too busy to answer within the offer's timeout) is down as well: 503, which a
      // carrier retries elsewhere (RFC 3261 §21.5.4); anything else: our fault.
      const status =
        e.code === 21211 || e.code === 20404 ? 404 : e.code === 90003 || edgeUnavailable(err) ? 503 : 500;
      dialog.reject(
        status,
        `${e.code}: ${e.message}`.slice(0, 200),
        status === 503 ? { "retry-after": 5 } : {},
      );
      call.abandon();
    }
  }
}

/** The edge did not answer the offer: none listens (no responders), or none answered in time. */
function edgeUnavailable(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause;
  return [err, cause].some(
    (e) =>
      e instanceof TimeoutError ||
      e instanceof NoRespondersError ||
      (e instanceof RequestError && e.isNoResponders()),
  );
}
