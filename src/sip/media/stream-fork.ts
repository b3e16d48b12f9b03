// One Media Stream of a SIP call, opened by the gateway (which holds the audio): Twilio's protocol as
// the client — `connected`, `start`, 20 ms μ-law `media` frames of the caller (inbound) and of what the
// gateway sends the caller (outbound), `dtmf`, `mark` echoes and `stop` — and, bidirectional, the app's
// `media`/`mark`/`clear` played to the caller through a StreamPlayout.
import { WebSocket } from "undici";
import { fail } from "../../errors/switchboard-error.js";
import type { StreamEndedReply } from "../../protocol/sip-commands.js";
import type { WebhookClient } from "../../webhook/client.js";
import { encodeG711 } from "../rtp/g711.js";
import { FRAME_SAMPLES } from "./rtp-session.js";
import { type PlayoutSink, StreamPlayout } from "./stream-playout.js";

/** Real time a server has to complete the WebSocket handshake (as on simulated calls: 31901 after). */
const OPEN_TIMEOUT_MS = 10_000;

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
  #sequence = 0;
  #stopping = false;
  #invalid: string | undefined;

  private constructor(o: StreamForkOptions, ws: WebSocket, ended: Promise<StreamEndedReply>) {
    this.#o = o;
    this.#ws = ws;
    this.ended = ended;
    if (o.track !== "outbound_track") this.#framers.set("inbound", new Framer());
    if (o.track !== "inbound_track") this.#framers.set("outbound", new Framer());
    if (o.bidirectional) this.#playout = new StreamPlayout(o.sink, (name) => this.#echo(name));
  }

  /** Connects and sends `connected` and `start`; rejects with 31920 (cannot open) or 31901 (too slow). */
  static open(o: StreamForkOptions): Promise<StreamFork> {
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
      let fork: StreamFork | undefined;
      const timeoutMs = o.openTimeoutMs ?? OPEN_TIMEOUT_MS;
      const timer = setTimeout(() => {
        reject(
          fail("streamConnectionTimeout", `the WebSocket at ${o.url} did not open within ${timeoutMs} ms`),
        );
        ws.close();
      }, timeoutMs);
      const ended = new Promise<StreamEndedReply>((done) => {
        ws.addEventListener("close", () => {
          clearTimeout(timer);
          if (!fork) {
            reject(fail("streamHandshakeError", `the WebSocket at ${o.url} did not open`));
            done({ by: "server" });
            return;
          }
          fork.#playout?.close();
          done({
            by: fork.#stopping ? "engine" : "server",
            ...(fork.#invalid !== undefined && { invalid: fork.#invalid }),
          });
        });
      });
      ws.addEventListener("error", (ev) => {
        if (fork) return;
        const message = (ev as unknown as { message?: string }).message || "connection failed";
        reject(fail("streamHandshakeError", `the WebSocket at ${o.url} did not open: ${message}`));
      });
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        fork = new StreamFork(o, ws, ended);
        fork.#begin();
        resolve(fork);
      });
      ws.addEventListener("message", (ev) => {
        if (fork) fork.#receive(ev.data);
      });
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
    this.#send({
      event: "dtmf",
      streamSid: this.#o.streamSid,
      sequenceNumber: this.#nextSequence(),
      dtmf: { track: "inbound_track", digit },
    });
  }

  /** Sends `stop` and closes the socket (the call ended, `<Stop>`, or the region stopped it). */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#playout?.close();
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#send({
      event: "stop",
      sequenceNumber: this.#nextSequence(),
      stop: { accountSid: this.#o.accountSid, callSid: this.#o.callSid },
      streamSid: this.#o.streamSid,
    });
    this.#ws.close(1000);
  }

  #begin(): void {
    const o = this.#o;
    this.#send({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.#send({
      event: "start",
      sequenceNumber: this.#nextSequence(),
      start: {
        accountSid: o.accountSid,
        streamSid: o.streamSid,
        callSid: o.callSid,
        tracks: [...this.#framers.keys()],
        customParameters: { ...o.parameters },
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
      streamSid: o.streamSid,
    });
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
      this.#send({
        event: "media",
        sequenceNumber: this.#nextSequence(),
        media: {
          track,
          chunk: String(framer.chunk),
          // When the frame was complete, in ms since the stream started (Twilio's clock is the media's).
          timestamp: String(Math.round(performance.now() - this.#startedAt)),
          payload: Buffer.from(encodeG711("PCMU", framer.frame, this.#ulaw)).toString("base64"),
        },
        streamSid: this.#o.streamSid,
      });
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
      return "a message that is not JSON text";
    }
    const playout = this.#playout;
    if (!playout) return `a "${String(message.event)}" message on a one-way stream`;
    if (message.streamSid !== this.#o.streamSid) return `streamSid ${String(message.streamSid)}`;
    switch (message.event) {
      case "media": {
        const payload = message.media?.payload;
        if (typeof payload !== "string") return "a media message without a payload";
        playout.media(Buffer.from(payload, "base64"));
        return undefined;
      }
      case "mark": {
        const name = message.mark?.name;
        if (typeof name !== "string") return "a mark message without a name";
        playout.mark(name);
        return undefined;
      }
      case "clear":
        playout.clear();
        return undefined;
      default:
        return `an unknown "${String(message.event)}" message`;
    }
  }

  #echo(name: string): void {
    this.#send({
      event: "mark",
      sequenceNumber: this.#nextSequence(),
      streamSid: this.#o.streamSid,
      mark: { name },
    });
  }

  #nextSequence(): string {
    this.#sequence += 1;
    return String(this.#sequence);
  }

  #send(message: object): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }
}
