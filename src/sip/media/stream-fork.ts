// One Media Stream of a SIP call, opened by the gateway (which holds the audio): Twilio's protocol as
// the client — `connected`, `start`, 20 ms μ-law `media` frames of the caller (inbound) and of what the
// gateway sends the caller (outbound), `dtmf`, `mark` echoes and `stop` — and, bidirectional, the app's
// `media`/`mark`/`clear` played to the caller through a StreamPlayout.
import { WebSocket } from "undici";
import { openStreamSocket, readAppMessage, StreamMessages } from "../../media/stream-protocol.js";
import type { StreamEndedReply } from "../../protocol/sip-commands.js";
import type { WebhookClient } from "../../webhook/client.js";
import { encodeG711 } from "../rtp/g711.js";
import { FRAME_SAMPLES } from "./rtp-session.js";
import { type PlayoutSink, StreamPlayout } from "./stream-playout.js";

type Track = "inbound" | "outbound";

export interface StreamForkOptions {
  readonly url: string;
  readonly streamSid: string;
  readonly accountSid: string;
  readonly callSid: string;
  readonly track: "inbound_track" | "outbound_track" | "both_tracks";
  readonly parameters: Readonly<Record<string, string>>;
  readonly bidirectional: boolean;
  /** The socket connects through its dispatcher, under the gateway's egress policy. */
  readonly web: WebhookClient;
  /** Where the app's audio plays (the call's RTP session). */
  readonly sink: PlayoutSink;
  readonly openTimeoutMs?: number;
}

/** Gathers one track's PCM into 20 ms frames, whatever the peer's packet time. */
class Framer {
  readonly frame = new Int16Array(FRAME_SAMPLES);
  filled = 0;
  chunk = 0;
}

export class StreamFork {
  readonly ended: Promise<StreamEndedReply>;
  readonly #o: StreamForkOptions;
  readonly #ws: WebSocket;
  readonly #framers = new Map<Track, Framer>();
  readonly #startedAt = performance.now();
  readonly #playout: StreamPlayout | undefined;
  readonly #ulaw = new Uint8Array(FRAME_SAMPLES);
  readonly #messages: StreamMessages;
  #stopping = false;
  #invalid: string | undefined;

  private constructor(o: StreamForkOptions, ws: WebSocket, ended: Promise<StreamEndedReply>) {
    this.#o = o;
    this.#ws = ws;
    this.ended = ended;
    this.#messages = new StreamMessages(o);
    if (o.track !== "outbound_track") this.#framers.set("inbound", new Framer());
    if (o.track !== "inbound_track") this.#framers.set("outbound", new Framer());
    if (o.bidirectional) this.#playout = new StreamPlayout(o.sink, (name) => this.#echo(name));
  }

  /** Connects and sends `connected` and `start`; rejects with 31920 (cannot open) or 31901 (too slow). */
  static open(o: StreamForkOptions): Promise<StreamFork> {
    return openStreamSocket(o, (ws) => {
      let done!: (reply: StreamEndedReply) => void;
      const fork = new StreamFork(o, ws, new Promise((resolve) => (done = resolve)));
      fork.#begin();
      return {
        stream: fork,
        message: (data) => fork.#receive(data),
        closed: () => {
          fork.#playout?.close();
          done({
            by: fork.#stopping ? "engine" : "server",
            ...(fork.#invalid !== undefined && { invalid: fork.#invalid }),
          });
        },
      };
    });
  }

  /** The caller's audio (decoded from its RTP). */
  inbound(pcm: Int16Array): void {
    this.#audio("inbound", pcm);
  }

  /** What the gateway has just sent the caller. */
  outbound(pcm: Int16Array): void {
    this.#audio("outbound", pcm);
  }

  /** A key from the caller: Twilio sends `dtmf` on bidirectional streams only. */
  key(digit: string): void {
    if (!this.#o.bidirectional) return;
    this.#send(this.#messages.dtmf(digit));
  }

  /** Sends `stop` and closes the socket (the call ended, `<Stop>`, or the region stopped it). */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#playout?.close();
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#send(this.#messages.stop());
    this.#ws.close(1000);
  }

  #begin(): void {
    this.#send(this.#messages.connected());
    this.#send(this.#messages.start([...this.#framers.keys()], this.#o.parameters));
  }

  #audio(track: Track, pcm: Int16Array): void {
    const framer = this.#framers.get(track);
    if (!framer || this.#stopping) return;
    for (let at = 0; at < pcm.length; ) {
      const n = Math.min(FRAME_SAMPLES - framer.filled, pcm.length - at);
      framer.frame.set(pcm.subarray(at, at + n), framer.filled);
      framer.filled += n;
      at += n;
      if (framer.filled < FRAME_SAMPLES) break;
      framer.filled = 0;
      framer.chunk += 1;
      this.#send(
        this.#messages.media(
          track,
          framer.chunk,
          // When the frame was complete, in ms since the stream started (Twilio's clock is the media's).
          Math.round(performance.now() - this.#startedAt),
          Buffer.from(encodeG711("PCMU", framer.frame, this.#ulaw)).toString("base64"),
        ),
      );
    }
  }

  #receive(data: unknown): void {
    if (this.#stopping) return;
    const refused = this.#take(data);
    // The first message the app broke the protocol with: the region warns of it (31951) at the end.
    if (refused !== undefined) this.#invalid ??= `stream ${this.#o.streamSid} received ${refused}`;
  }

  /** Acts on one of the app's messages; says what was wrong with it, if anything. */
  #take(data: unknown): string | undefined {
    const message = readAppMessage(data, this.#o.streamSid, this.#o.bidirectional);
    if (typeof message === "string") return message;
    // Only a bidirectional stream, which has a playout, gets here.
    if (message.event === "media") this.#playout?.media(message.audio);
    else if (message.event === "mark") this.#playout?.mark(message.name);
    else this.#playout?.clear();
    return undefined;
  }

  #echo(name: string): void {
    this.#send(this.#messages.mark(name));
  }

  #send(message: object): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }
}
