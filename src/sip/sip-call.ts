// One SIP call on the gateway: carries out its region's channel commands on its dialog and RTP
// session, and sends the caller's keys and hang-up back to the region as channel input.
import type { Msg } from "@nats-io/transport-node";
import { sleep, WALL_CLOCK } from "../clock/clock.js";
import { fail } from "../errors/switchboard-error.js";
import type { Logger } from "../log.js";
import type { ChannelIn } from "../protocol/channel-events.js";
import { respondError, respondValue } from "../protocol/service-error.js";
import type { SipCommand } from "../protocol/sip-commands.js";
import type { WebhookClient } from "../webhook/client.js";
import { Bridge, type CallTap } from "./media/bridge.js";
import { CallForks } from "./media/call-forks.js";
import { CallRoom } from "./media/call-room.js";
import { CallerRecording } from "./media/caller-recording.js";
import type { AudioFetcher } from "./media/fetch-audio.js";
import type { FinishedRecordings } from "./media/finished-recordings.js";
import type { GatewayRooms } from "./media/room-mix.js";
import type { RtpSession } from "./media/rtp-session.js";
import type { RtpPacket } from "./rtp/packet.js";
import { SpeechListening } from "./speech/listening.js";
import { languageFor, type Recogniser } from "./speech/recogniser.js";
import type { Transcripts } from "./speech/transcripts.js";
import type { Prompts } from "./tts/prompts.js";
import type { ReferOutcome } from "./ua/refer.js";

/** What a call needs of its SIP session: an inbound call's (InboundDialog) or an outbound leg's (OutboundDialog). */
export interface CallDialog {
  readonly state: "early" | "answering" | "confirmed" | "ended";
  ringing(): void;
  /** 183 with our SDP: early media, before the answer. */
  progress(sdp: string): void;
  answer(sdp: string): Promise<void>;
  /** Ends it before the answer: a final failure inbound, a CANCEL outbound. */
  reject(status: number, text?: string): void;
  bye(): Promise<void>;
  /** Asks the peer to transfer the call (REFER); its outcome as the peer reported it. */
  refer(target: string, signal: AbortSignal): Promise<ReferOutcome>;
}

/** How long after a recording that the caller's hang-up ended the region is told of the hang-up. */
const HANGUP_AFTER_RECORD_MS = 5_000;

export interface SipCallDeps {
  callSid: string;
  dialog: CallDialog;
  rtp: RtpSession;
  answerSdp: string;
  prompts: Prompts;
  fetcher: AudioFetcher;
  recordings: FinishedRecordings;
  /** Media Streams' WebSockets go through it, under the gateway's egress policy. */
  web: WebhookClient;
  /** The rooms (conferences, queue bridges) this gateway mixes for its calls. */
  rooms: GatewayRooms;
  /** Recognises the caller's speech during a speech Gather (`listen`); without one, speech is not heard. */
  recogniser?: Recogniser;
  /** Where recordings made with `transcribe` are recognised (the gateway's: they outlive the call). */
  transcripts?: Transcripts;
  /** Sends channel input to the call's region (once the region is known). */
  input(event: ChannelIn): void;
  /** Another call on this gateway, for a bridge. */
  call(callSid: string): SipCall | undefined;
  log: Logger;
}

export class SipCall {
  readonly #ops = new Map<string, AbortController>();
  readonly #recording: CallerRecording;
  #listening: SpeechListening | undefined;
  #recordReplied: Promise<void> = Promise.resolve();
  #bridge: { bridge: Bridge; recorded: boolean; op: AbortController } | undefined;
  #ended = false;
  readonly #forks: CallForks;
  readonly #room: CallRoom;
  #endedResolve!: () => void;
  /** Resolves when the call is over on the SIP side. */
  readonly done = new Promise<void>((resolve) => {
    this.#endedResolve = resolve;
  });
  /** A bridge or early-media relay listening to this call's party. */
  tap: CallTap | undefined;
  /** Called once when the call is over on the SIP side (either party, or never acknowledged). */
  onEnded: (() => void) | undefined;

  constructor(private readonly d: SipCallDeps) {
    this.#forks = new CallForks(d.web, d.rtp);
    this.#recording = new CallerRecording(d.rtp, d.recordings, d.transcripts);
    this.#room = new CallRoom(d.rooms, d.callSid, d.rtp, (id) => this.#ops.get(id)?.abort(new Error("left")));
  }

  get callSid(): string {
    return this.d.callSid;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get rtp(): RtpSession {
    return this.d.rtp;
  }

  /** Whether the SIP session is answered (confirmed, or answering: the 200 sent, its ACK due). */
  get answered(): boolean {
    return this.d.dialog.state === "confirmed" || this.d.dialog.state === "answering";
  }

  /** Rings the caller (180): its dialled leg rings. */
  ring(): void {
    if (!this.#ended) this.d.dialog.ringing();
  }

  /** Early media to the caller (183 with our SDP, RTP from now): its dialled leg's. */
  earlyMedia(): void {
    if (this.#ended || this.d.dialog.state !== "early") return;
    this.d.dialog.progress(this.d.answerSdp);
    this.d.rtp.start(performance.now());
  }

  /** A key from the caller (RFC 4733 or INFO): to the region's Gather, and to a recording's finishOnKey. */
  key(k: string): void {
    if (this.#ended) return;
    this.#recording.recorder?.key(k);
    this.#forks.key(k);
    this.tap?.key(k);
    this.d.input({ kind: "digits", digits: k });
  }

  /** The caller hung up (BYE), cancelled (CANCEL) or never acknowledged the answer. */
  callerEnded(why: string): void {
    if (this.#ended) return;
    this.d.log.info({ callSid: this.d.callSid, why }, "caller ended the call");
    const recording = this.#recording.recorder;
    // Before the call's commands are aborted, so the recording ends as "hangup", not as cancelled.
    recording?.stop("hangup");
    const recorded = recording !== undefined || this.#bridge?.recorded === true;
    this.#end();
    if (!recorded) {
      this.d.input({ kind: "hangup" });
      return;
    }
    // A recording in progress ends with what was said and "hangup", and Twilio still requests the
    // Record's action with it. A hang-up on `.in` now would overtake the reply in the region (it
    // cancels the verb before its result is read), so the region learns of it from its next command
    // (90010), or from `.in` once the action has had time to be requested.
    void this.#recordReplied.then(() => {
      setTimeout(() => this.d.input({ kind: "hangup" }), HANGUP_AFTER_RECORD_MS).unref();
    });
  }

  /** Carries out one command and answers it (the answer to a prompt comes when it has played). */
  async handle(msg: Msg, cmd: SipCommand): Promise<void> {
    try {
      const value = await this.#run(cmd);
      respondValue(msg, value ?? {});
    } catch (err) {
      respondError(msg, err);
    }
  }

  async #run(cmd: SipCommand): Promise<unknown> {
    const { dialog, rtp } = this.d;
    if (cmd.op === "stop") {
      this.#ops.get(cmd.id)?.abort(new Error("stopped"));
      this.#forks.stop(cmd.id);
      return {};
    }
    if (cmd.op === "hangup" || cmd.op === "reject") return this.#finish(cmd);
    if (cmd.op === "fetch") return this.d.recordings.slice(cmd.id, cmd.offset);
    // Answered when the stream ends, the call's end included.
    if (cmd.op === "stream-ended") return this.#forks.ended(cmd.id);
    if (cmd.op === "transcribe") return this.#transcript(cmd.id);
    if (cmd.op === "bridge") return this.#bridgeTo(cmd);
    // The gateway answers it from its LegStates, before a call is looked up.
    if (cmd.op === "leg-state") throw fail("invalidPayload", "leg-state is answered by the gateway");
    if (this.#ended) throw fail("sipCallGone", `call ${this.d.callSid} has ended on the SIP gateway`);
    switch (cmd.op) {
      case "ping":
        return {};
      case "listen":
        return this.#listen(cmd);
      case "ring":
        dialog.ringing();
        return {};
      case "stream":
        return this.#forks.open(cmd);
      case "room-update":
        return this.#room.update(cmd);
      case "answer":
        rtp.start(performance.now());
        // The reply does not wait for the ACK: the prompts start as the 200 goes out, as on a phone.
        void dialog.answer(this.d.answerSdp);
        return {};
      default:
        return this.#withSignal(cmd.id, (signal) => this.#media(cmd, signal));
    }
  }

  async #media(cmd: Extract<SipCommand, { id: string }>, signal: AbortSignal): Promise<unknown> {
    const { rtp } = this.d;
    switch (cmd.op) {
      case "say":
        return rtp.play(await this.d.prompts.say(cmd.text, cmd.voice, cmd.language), signal);
      case "play":
        if (cmd.digits) await rtp.sendDigits(cmd.digits, signal);
        if (cmd.url) await rtp.play(await this.d.fetcher.pcm(cmd.url, signal), signal);
        return {};
      case "pause":
        // Before the answer (a first <Pause> delays it, as on Twilio) no stream runs to time it by,
        // so it waited forever: the wall clock times it, the caller still hearing the ringing.
        if (!rtp.started) return sleep(WALL_CLOCK, cmd.ms, signal);
        return rtp.play(new Int16Array(Math.round(cmd.ms * 8)), signal);
      case "record":
        return this.#recording.record(cmd.id, cmd.options, signal, this.#awaitingReply());
      case "room":
        return this.#room.join(cmd, signal);
      case "refer":
        return this.d.dialog.refer(cmd.target, signal);
      case "room-record": {
        // Stopped (or the call ended), it answers with what it has: the region stores it.
        const recording = await this.#room.record(cmd.id, cmd.roomSid, signal);
        this.d.recordings.keep(cmd.id, recording);
        return this.d.recordings.slice(cmd.id, 0);
      }
      default:
        throw fail("invalidPayload", `unexpected command ${cmd.op}`);
    }
  }

  /** A recording's reply is due: a hang-up waits for it (callerEnded) until the returned function is called. */
  #awaitingReply(): () => void {
    let replied!: () => void;
    this.#recordReplied = new Promise((r) => {
      replied = r;
    });
    return replied;
  }

  /**
   * Relays this call and an outbound leg to each other until either hangs up or `stop`; the reply is
   * empty, or the bridge's recording (a hang-up then waits for it, as a <Record>'s does). A bridge
   * asked for while one is up (a resumed call's) takes its place: the first stops before the second
   * sets its taps, answers with nothing, and its recording goes on in the second (bridge.ts).
   */
  async #bridgeTo(cmd: Extract<SipCommand, { op: "bridge" }>): Promise<unknown> {
    const leg = this.d.call(cmd.legSid);
    if (this.#ended || !leg || leg.ended || leg === this)
      throw fail("sipCallGone", `call ${cmd.legSid} is not live on this SIP gateway with ${this.d.callSid}`);
    this.#ops.get(cmd.id)?.abort(new Error("repeated"));
    const previous = this.#bridge;
    previous?.bridge.halt();
    previous?.op.abort(new Error("bridged again"));
    const ac = new AbortController();
    this.#ops.set(cmd.id, ac);
    const bridge = new Bridge(this, leg, cmd.record, previous?.bridge);
    const recorded = cmd.record !== "none";
    this.#bridge = { bridge, recorded, op: ac };
    const replied = recorded ? this.#awaitingReply() : () => {};
    const stopped = new Promise<void>((resolve) =>
      ac.signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    try {
      await Promise.race([this.done, leg.done, stopped]);
      const recording = bridge.stop();
      if (!recording) return {};
      this.d.recordings.keep(cmd.id, recording);
      return this.d.recordings.slice(cmd.id, 0);
    } finally {
      bridge.stop();
      if (this.#bridge?.bridge === bridge) this.#bridge = undefined;
      if (this.#ops.get(cmd.id) === ac) this.#ops.delete(cmd.id);
      queueMicrotask(replied);
    }
  }

  async #finish(cmd: Extract<SipCommand, { op: "hangup" | "reject" }>): Promise<unknown> {
    if (this.#ended) return {};
    const { dialog } = this.d;
    if (dialog.state === "early") {
      // Twilio's SIP answers: <Reject reason="busy"> 486, "rejected" 603; ending unanswered otherwise 480.
      if (cmd.op === "reject" && cmd.reason === "busy") dialog.reject(486, "Reject reason=busy");
      else if (cmd.op === "reject") dialog.reject(603, "Reject reason=rejected");
      else dialog.reject(480, "The call ended before it was answered");
      this.#end();
      return {};
    }
    this.#end();
    await dialog.bye();
    return {};
  }

  /** Whether anything takes the caller's audio now: when nothing does, it is not decoded. */
  get hearing(): boolean {
    return (
      this.#recording.recorder !== undefined ||
      this.#forks.size > 0 ||
      this.#room.joined ||
      this.#listening !== undefined ||
      this.tap !== undefined
    );
  }

  /** Caller audio, for a recording in progress, a speech Gather's listening, streams and a bridge. */
  audio(packet: RtpPacket, pcm: Int16Array): void {
    this.#recording.recorder?.audio(packet, pcm);
    this.#forks.inbound(pcm);
    this.#room.inbound(pcm);
    this.#listening?.audio(pcm);
    this.tap?.audio(packet, pcm);
  }

  /** What the gateway has just sent the caller: a stream's outbound track. */
  sent(pcm: Int16Array): void {
    if (this.#forks.size > 0) this.#forks.outbound(pcm);
  }

  #transcript(id: string): Promise<unknown> {
    if (!this.d.transcripts) throw fail("sipCallGone", "this SIP gateway has no speech recogniser");
    return this.d.transcripts.reply(id);
  }

  /** A speech Gather: listens until its result is sent or `stop` (by id) ends it. Answers at once. */
  #listen(cmd: Extract<SipCommand, { op: "listen" }>): unknown {
    const { recogniser } = this.d;
    if (!recogniser) return {};
    const { language, warning } = languageFor(recogniser, cmd.options.language);
    this.#ops.get(cmd.id)?.abort(new Error("repeated"));
    this.#listening?.stop();
    const ac = new AbortController();
    const listening = new SpeechListening(
      { ...cmd.options, language },
      recogniser,
      this.d.input,
      this.d.log,
      () => {
        if (this.#listening === listening) this.#listening = undefined;
        if (this.#ops.get(cmd.id) === ac) this.#ops.delete(cmd.id);
      },
    );
    ac.signal.addEventListener("abort", () => listening.stop(), { once: true });
    this.#ops.set(cmd.id, ac);
    this.#listening = listening;
    return warning ? { warning } : {};
  }

  /** The edge refused the call (it was rejected on SIP already): release it, tell no region. */
  abandon(): void {
    this.#end();
  }

  /** The gateway is stopping: end the call on SIP (BYE, or 480 before the answer). */
  async shutdown(): Promise<void> {
    await this.#finish({ op: "hangup" });
  }

  /** The region ended the call without a hang-up command (e.g. it failed): end the SIP side too. */
  regionEnded(): void {
    if (this.#ended) return;
    // Nothing awaits this: a failure is logged, never an unhandled rejection (which ends the process).
    this.#finish({ op: "hangup" }).catch((err: unknown) =>
      this.d.log.warn({ err, callSid: this.d.callSid }, "ending the SIP side of a call failed"),
    );
  }

  async #withSignal<T>(id: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#ops.get(id)?.abort(new Error("repeated"));
    const ac = new AbortController();
    this.#ops.set(id, ac);
    try {
      return await work(ac.signal);
    } catch (err) {
      if (this.#ended) throw fail("sipCallGone", `call ${this.d.callSid} has ended on the SIP gateway`);
      throw err;
    } finally {
      if (this.#ops.get(id) === ac) this.#ops.delete(id);
    }
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const gone = fail("sipCallGone", `call ${this.d.callSid} has ended on the SIP gateway`);
    for (const ac of this.#ops.values()) ac.abort(gone);
    this.#forks.closeAll();
    this.d.rtp.close(gone);
    this.#endedResolve();
    this.onEnded?.();
  }
}
