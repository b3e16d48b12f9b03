// One Media Streams WebSocket, speaking Twilio's protocol as the client: `connected`, `start`, `media`
// frames of the caller's audio (20 ms of 8 kHz μ-law each), `mark` echoes and `stop`; on a bidirectional
// stream it takes the server's `media`, `mark` and `clear`.
//
// Pacing: at time-scale > 0 the audio goes out as it happens, five frames every 100 ms of call time. At
// time-scale 0 the call's time jumps, so paced audio means nothing and a clock timer would itself move
// the call's time on: the stream sends its first second of audio (50 frames) right after `start`, and on
// stopping the audio of the call time that has passed since, at most 10 s more. It never sets a timer at
// scale 0, so a stream never changes a call's timing, and a long simulated call cannot flood the server.
import { WebSocket } from "undici";
import type { CallClock } from "../../clock/call-clock.js";
import { openStreamSocket, readAppMessage, StreamMessages } from "../../media/stream-protocol.js";
import type { StreamTrack } from "../../twiml/verb-data.js";
import type { WebhookClient } from "../../webhook/client.js";

const FRAME_MS = 20;
/** 20 ms of 8 kHz μ-law. */
const FRAME_BYTES = 160;
/** μ-law silence. */
const SILENCE = Buffer.alloc(FRAME_BYTES, 0xff).toString("base64");
const TICK_MS = 100;
/** Audio sent at once when a scale-0 stream starts, and at most again when it stops. */
const SIMULATED_FIRST_MS = 1000;
const SIMULATED_MAX_FRAMES = 500;

export interface MediaStreamOptions {
  readonly url: string;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly callSid: string;
  readonly track: StreamTrack;
  readonly parameters: Readonly<Record<string, string>>;
  /** `<Connect>`: the server may send audio, marks and clear. */
  readonly bidirectional: boolean;
  readonly clock: CallClock;
  /** The socket connects through its dispatcher, under its egress policy. */
  readonly web: WebhookClient;
  /** The server broke the protocol (31951); called once per stream. */
  readonly onInvalidMessage: (reason: string) => void;
  /** Real ms the handshake may take before it fails with 31901 (10 s). */
  readonly openTimeoutMs?: number;
}

export class MediaStream {
  readonly streamSid: string;
  /** Resolves when the socket has closed; `server` when the app's server closed it. */
  readonly ended: Promise<"server" | "engine">;
  readonly #o: MediaStreamOptions;
  readonly #ws: WebSocket;
  readonly #tracks: ("inbound" | "outbound")[];
  readonly #messages: StreamMessages;
  #chunks = new Map<string, number>();
  /** Call time of the stream's start, and of the next frame to send (ms from the start). */
  #startedAt = 0;
  #nextFrameAt = 0;
  #tick: unknown;
  #stopping = false;
  #warned = false;
  /** Call time at which the audio the server sent has finished playing. */
  #playUntil = 0;
  #marks: { name: string; timer: unknown }[] = [];

  private constructor(o: MediaStreamOptions, ws: WebSocket, ended: Promise<"server" | "engine">) {
    this.#o = o;
    this.streamSid = o.streamSid;
    this.#ws = ws;
    this.ended = ended;
    this.#messages = new StreamMessages(o);
    this.#tracks =
      o.track === "both_tracks"
        ? ["inbound", "outbound"]
        : o.track === "outbound_track"
          ? ["outbound"]
          : ["inbound"];
  }

  /**
   * Connects and sends `connected` and `start`; rejects with 31920 when the socket cannot open, 31901
   * when the server does not complete the handshake in time.
   */
  static open(o: MediaStreamOptions): Promise<MediaStream> {
    return openStreamSocket(o, (ws) => {
      let done!: (by: "server" | "engine") => void;
      const stream = new MediaStream(o, ws, new Promise((resolve) => (done = resolve)));
      stream.#begin();
      return {
        stream,
        message: (data) => stream.#receive(data),
        closed: () => {
          stream.#halt();
          done(stream.#stopping ? "engine" : "server");
        },
      };
    });
  }

  /** Sends `stop` (after the audio the call time has owed the server) and closes the socket. */
  stop(): void {
    if (this.#stopping || this.#ws.readyState !== WebSocket.OPEN) return;
    this.#stopping = true;
    if (this.#o.clock.scale === 0) this.#catchUp(SIMULATED_MAX_FRAMES);
    // Marks whose audio has not played are dropped with the stream (only `clear` answers them early).
    this.#halt();
    this.#marks = [];
    this.#send(this.#messages.stop());
    this.#ws.close(1000);
  }

  #begin(): void {
    const o = this.#o;
    this.#startedAt = o.clock.now();
    this.#send(this.#messages.connected());
    this.#send(this.#messages.start(this.#tracks, o.parameters));
    if (o.clock.scale === 0) {
      this.#sendFramesUntil(SIMULATED_FIRST_MS, SIMULATED_FIRST_MS / FRAME_MS);
    } else {
      const tick = () => {
        this.#catchUp(Number.POSITIVE_INFINITY);
        this.#tick = o.clock.setTimeout(tick, TICK_MS);
      };
      tick();
    }
  }

  /** Sends the frames for the call time that has passed since the last one, at most `limit` of them. */
  #catchUp(limit: number): void {
    this.#sendFramesUntil(this.#o.clock.now() - this.#startedAt, limit);
  }

  #sendFramesUntil(untilMs: number, limit: number): void {
    for (let n = 0; this.#nextFrameAt < untilMs && n < limit; n++) {
      for (const track of this.#tracks) {
        const chunk = (this.#chunks.get(track) ?? 0) + 1;
        this.#chunks.set(track, chunk);
        this.#send(this.#messages.media(track, chunk, this.#nextFrameAt, SILENCE));
      }
      this.#nextFrameAt += FRAME_MS;
    }
  }

  #receive(data: unknown): void {
    if (this.#stopping) return;
    const message = readAppMessage(data, this.streamSid, this.#o.bidirectional);
    if (typeof message === "string") {
      this.#invalid(message);
      return;
    }
    const clock = this.#o.clock;
    switch (message.event) {
      case "media": {
        // The caller hears it after what is already queued: 8 bytes of μ-law per millisecond.
        const ms = message.audio.length / 8;
        this.#playUntil = Math.max(clock.now(), this.#playUntil) + ms;
        return;
      }
      case "mark": {
        const name = message.name;
        const wait = this.#playUntil - clock.now();
        // At scale 0 (and with nothing queued) the audio has played at once: answer now.
        if (clock.scale === 0 || wait <= 0) {
          this.#echo({ name });
          return;
        }
        const mark = { name, timer: undefined as unknown };
        mark.timer = clock.setTimeout(() => {
          this.#marks = this.#marks.filter((m) => m !== mark);
          this.#echo(mark);
        }, wait);
        this.#marks.push(mark);
        return;
      }
      case "clear": {
        // The queued audio is dropped; its marks are answered at once, as Twilio does.
        this.#playUntil = clock.now();
        for (const mark of this.#marks.splice(0)) {
          clock.clearTimeout(mark.timer);
          this.#echo(mark);
        }
        return;
      }
    }
  }

  #echo(mark: { name: string }): void {
    this.#send(this.#messages.mark(mark.name));
  }

  #invalid(reason: string): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#o.onInvalidMessage(`stream ${this.streamSid} received ${reason}`);
  }

  /** No more timers: the stream is stopping or its socket closed. */
  #halt(): void {
    this.#o.clock.clearTimeout(this.#tick);
    for (const mark of this.#marks) this.#o.clock.clearTimeout(mark.timer);
  }

  #send(message: object): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }
}
