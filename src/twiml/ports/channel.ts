// The Channel port: the call's audio side, as a verb may ask of it (speak, play, listen, record,
// bridge). The simulated channel over NATS implements it, and so does the SIP/RTP gateway.
import type { GatherInput, RejectVerb } from "../verb-data.js";

/** What the caller gave a Gather. */
export interface CallerInput {
  /** Keys pressed, without the finishing key. */
  readonly digits: string;
  readonly speech?: { readonly text: string; readonly confidence: number };
}

export interface ListenOptions {
  readonly input: readonly GatherInput[];
  readonly finishOnKey: string;
  readonly numDigits?: number;
  readonly timeoutMs: number;
  readonly speechTimeoutMs: number;
  /** Called with the words recognised so far, each time more arrive (partialResultCallback). */
  readonly onPartialSpeech?: (text: string) => void;
  /** `speechTimeout="auto"`: the recogniser decides when speech has ended (speechTimeoutMs is a fallback). */
  readonly speechAuto?: boolean;
  /** Words and phrases to expect (Twilio's `hints`), for a recogniser that can be biased. */
  readonly hints?: readonly string[];
  /** The speech's language (BCP-47, e.g. en-US). */
  readonly language?: string;
  /** A channel's recogniser reports a Twilio warning (e.g. 13331, a language it lacks). */
  readonly onWarning?: (code: number, message: string) => void;
}

/** Listening for one Gather's input. */
export interface InputListener {
  /** Resolves when the caller's first key or word arrives (barge-in stops the prompts then). */
  readonly started: Promise<void>;
  /** The prompts are over (or were interrupted): the timeout runs from now. Resolves with the input. */
  result(): Promise<CallerInput>;
  /** Stops listening (the Gather ended or was cancelled). */
  close(): void;
}

/**
 * The call's audio side: a port. The built-in implementation is the simulated channel over NATS;
 * a SIP/RTP gateway is another. Each method resolves when the audio has finished (in the clock's
 * time) and rejects with the signal's reason when the verb is cancelled (e.g. the caller hung up).
 */
export interface Channel {
  /** The call has reached its region and is ringing (SIP: 180 Ringing). */
  ring(): Promise<void>;
  answer(): Promise<void>;
  say(text: string, options: { voice: string; language: string }, signal: AbortSignal): Promise<void>;
  play(url: string, options: { digits?: string }, signal: AbortSignal): Promise<void>;
  pause(seconds: number, signal: AbortSignal): Promise<void>;
  /** Starts listening for keys and/or speech, before the Gather's prompts play. */
  listen(options: ListenOptions, signal: AbortSignal): InputListener;
  /**
   * Records the caller until a key, silence, the maximum length or hang-up, which resolves (not
   * rejects) with digits "hangup". Any other cancellation resolves with what was recorded, which the
   * verb discards (the call was redirected or another worker carries it on).
   */
  record(options: RecordOptions, signal: AbortSignal): Promise<RecordedAudio>;
  hangup(): Promise<void>;
  reject(reason: RejectVerb["reason"]): Promise<void>;
  /**
   * The caller is bridged to a dialed leg (`.out` shows `dial`) until `signal` aborts. Resolves when
   * the caller presses `*` and `hangupOnStar` is set; a channel that carries the leg's audio (SIP)
   * also resolves when either party hangs up, and when `signal` aborts. With `record`, a channel
   * with real audio resolves with the bridge's recording (`dual`: the caller left, the leg right);
   * one without (the simulated network) resolves with undefined or rejects with the signal's reason.
   */
  bridge(leg: BridgeLeg, signal: AbortSignal): Promise<RecordedAudio | undefined>;
  /**
   * Resolves when the caller presses `*` (a `<Dial hangupOnStar>` in a conference or a queue bridge,
   * which the channel does not carry itself); rejects with the signal's reason when it aborts first.
   */
  star?(signal: AbortSignal): Promise<void>;
  /**
   * The caller's audio joins a room of calls (a started conference, a queue bridge) that may be on
   * other gateways: it hears the others' mix until `signal` aborts. Only channels with real audio
   * have it (the SIP gateway's); the simulated channel has no audio to mix.
   */
  joinRoom?(room: RoomJoin, signal: AbortSignal): RoomHandle;
  /** Records a room's mix until `signal` aborts, then resolves with it (channels with `joinRoom`). */
  recordRoom?(roomSid: string, signal: AbortSignal): Promise<RecordedAudio>;
  /**
   * Asks the caller's SIP endpoint to transfer the call to `target` (a REFER): resolves with the
   * REFER's final status and, once accepted, the last status its NOTIFYs reported. Only a channel
   * with a SIP endpoint (the gateway's) has it; elsewhere `<Refer>` is simulated as accepted.
   */
  refer?(target: string, signal: AbortSignal): Promise<ReferResult>;
}

/** What a REFER came to, in SIP status codes (`<Refer>`'s ReferSipResponseCode, NotifySipResponseCode). */
export interface ReferResult {
  referCode: number;
  notifyCode?: number;
}

/** How a call is in a room: what the others hear of it, and it of them. */
export interface RoomState {
  readonly muted: boolean;
  /** Neither heard nor hearing; the verb plays hold music meanwhile. */
  readonly hold: boolean;
  /** A coach is heard only by this CallSid. */
  readonly coachOf?: string | undefined;
}

export interface RoomJoin extends RoomState {
  /** Names the room in subjects: a ConferenceSid, a queue bridge's id. */
  readonly roomSid: string;
  readonly beep: { readonly enter: boolean; readonly exit: boolean };
}

export interface RoomHandle {
  /** Mute, hold or coach changed (REST, or the participant's record). */
  update(state: RoomState): void;
}

/** The leg a bridge connects the caller to. */
export interface BridgeLeg {
  readonly callSid: string;
  readonly to: string;
  readonly hangupOnStar: boolean;
  /** The leg is a call on this call's SIP gateway (BridgedLeg.onGateway); otherwise it has no audio to join. */
  readonly onGateway?: boolean;
  /** Record the bridge: both parties in one channel, or one channel each. */
  readonly record?: "mono" | "dual";
}

export interface RecordOptions {
  /** Silence that ends the recording, in ms (Twilio's `timeout`; 0: silence never ends it). */
  readonly timeoutMs: number;
  /** The longest recording, in ms (Twilio's `maxLength`). */
  readonly maxLengthMs: number;
  /** Keys that end the recording ("" for none). */
  readonly finishOnKey: string;
  readonly playBeep: boolean;
  /** Leading and trailing silence is cut (Twilio's `trim="trim-silence"`). */
  readonly trimSilence: boolean;
  /** `transcribe="true"`: a channel with a recogniser gives the recording's transcript. */
  readonly transcribe?: boolean;
  /**
   * Names the recording within the call, the same when a resumed call runs the same <Record> again:
   * a channel that still has that recording (its worker died or handed the call over while it ran)
   * carries it on rather than beeping and starting another.
   */
  readonly key?: string;
}

/** What the caller sent while recording. */
export interface RecordedAudio {
  /** A WAV file of the caller's audio (8 kHz mono). */
  readonly wav: Uint8Array;
  readonly durationMs: number;
  /** The key that ended it, "hangup" when the caller hung up, "" for silence or the maximum length. */
  readonly digits: string;
  /** What the caller said, when the channel knows (the simulated caller's script). */
  readonly transcript?: string;
}
