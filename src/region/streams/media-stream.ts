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
import { fail } from "../../errors/switchboard-error.js";
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
/** Real time a server has to complete the WebSocket handshake (a network limit, like a webhook's). */
const OPEN_TIMEOUT_MS = 10_000;

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
  #sequence = 0;
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
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        o.web.assertAllowed(new URL(o.url));
        ws = new WebSocket(o.url, { dispatcher: o.web.dispatcher() });
      } catch (err) {
        reject(
          fail("streamHandshakeError", `cannot open ${o.url}: ${(err as Error).message}`, { cause: err }),
        );
        return;
      }
      let opened = false;
      let stream: MediaStream | undefined;
      const timeoutMs = o.openTimeoutMs ?? OPEN_TIMEOUT_MS;
      const timer = setTimeout(() => {
        reject(
          fail("streamConnectionTimeout", `the WebSocket at ${o.url} did not open within ${timeoutMs} ms`),
        );
        ws.close();
      }, timeoutMs);
      const ended = new Promise<"server" | "engine">((done) => {
        ws.addEventListener("close", () => {
          clearTimeout(timer);
          if (stream) {
            stream.#halt();
            done(stream.#stopping ? "engine" : "server");
          } else {
            done("server");
          }
          if (!opened) reject(fail("streamHandshakeError", `the WebSocket at ${o.url} did not open`));
        });
      });
      ws.addEventListener("error", (ev) => {
        if (!opened) {
          const message = (ev as unknown as { message?: string }).message || "connection failed";
          reject(fail("streamHandshakeError", `the WebSocket at ${o.url} did not open: ${message}`));
        }
      });
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        opened = true;
        stream = new MediaStream(o, ws, ended);
        stream.#begin();
        resolve(stream);
      });
      ws.addEventListener("message", (ev) => {
        if (stream) stream.#receive(ev.data);
      });
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
    this.#send({
      event: "stop",
      sequenceNumber: this.#nextSequence(),
      streamSid: this.streamSid,
      stop: { accountSid: this.#o.accountSid, callSid: this.#o.callSid },
    });
    this.#ws.close(1000);
  }

  #begin(): void {
    const o = this.#o;
    this.#startedAt = o.clock.now();
    this.#send({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.#send({
      event: "start",
      sequenceNumber: this.#nextSequence(),
      start: {
        accountSid: o.accountSid,
        streamSid: o.streamSid,
        callSid: o.callSid,
        tracks: this.#tracks,
        customParameters: { ...o.parameters },
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
      streamSid: o.streamSid,
    });
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
        this.#send({
          event: "media",
          sequenceNumber: this.#nextSequence(),
          media: { track, chunk: String(chunk), timestamp: String(this.#nextFrameAt), payload: SILENCE },
          streamSid: this.streamSid,
        });
      }
      this.#nextFrameAt += FRAME_MS;
    }
  }

  #receive(data: unknown): void {
    if (this.#stopping) return;
    let message: {
      event?: unknown;
      streamSid?: unknown;
      media?: { payload?: unknown };
      mark?: { name?: unknown };
    };
    try {
      if (typeof data !== "string") throw new Error("a binary frame");
      message = JSON.parse(data);
      if (typeof message !== "object" || message === null) throw new Error("not an object");
    } catch {
      this.#invalid("a message that is not JSON text");
      return;
    }
    if (!this.#o.bidirectional) {
      this.#invalid(`a "${String(message.event)}" message on a one-way stream`);
      return;
    }
    if (message.streamSid !== this.streamSid) {
      this.#invalid(`streamSid ${String(message.streamSid)}`);
      return;
    }
    const clock = this.#o.clock;
    switch (message.event) {
      case "media": {
        const payload = message.media?.payload;
        if (typeof payload !== "string") {
          this.#invalid("a media message without a payload");
          return;
        }
        // The caller hears it after what is already queued: 8 bytes of μ-law per millisecond.
        const ms = Buffer.from(payload, "base64").length / 8;
        this.#playUntil = Math.max(clock.now(), this.#playUntil) + ms;
        return;
      }
      case "mark": {
        const name = message.mark?.name;
        if (typeof name !== "string") {
          this.#invalid("a mark message without a name");
          return;
        }
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
      default: {
        this.#invalid(`an unknown "${String(message.event)}" message`);
        return;
      }
    }
  }

  #echo(mark: { name: string }): void {
    this.#send({
      event: "mark",
      sequenceNumber: this.#nextSequence(),
      streamSid: this.streamSid,
      mark: { name: mark.name },
    });
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

  #nextSequence(): string {
    this.#sequence += 1;
    return String(this.#sequence);
  }

  #send(message: object): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }
}
