// Twilio's Media Streams protocol, client side: the socket's opening (31920/31901), the messages the
// client sends and the reading of the app's. The region's simulated streams and the gateway's live ones share it.
import { WebSocket } from "undici";
import { fail } from "../errors/switchboard-error.js";
import type { WebhookClient } from "../webhook/client.js";

/** Real time a server has to complete the WebSocket handshake (a network limit, like a webhook's). */
const OPEN_TIMEOUT_MS = 10_000;

export interface StreamSocketOptions {
  readonly url: string;
  /** The socket connects through its dispatcher, under its egress policy. */
  readonly web: WebhookClient;
  /** Real ms the handshake may take before it fails with 31901 (10 s). */
  readonly openTimeoutMs?: number;
}

/** What an open socket is bound to: the stream it carries and its handlers. */
export interface OpenedStream<T> {
  readonly stream: T;
  readonly message: (data: unknown) => void;
  readonly closed: () => void;
}

/**
 * Opens the socket; once open, binds it with `opened` and resolves with the stream. Rejects with 31920
 * when the socket cannot open, 31901 when the server does not complete the handshake in time.
 */
export function openStreamSocket<T>(
  o: StreamSocketOptions,
  opened: (ws: WebSocket) => OpenedStream<T>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      o.web.assertAllowed(new URL(o.url));
      ws = new WebSocket(o.url, { dispatcher: o.web.dispatcher() });
    } catch (err) {
      reject(fail("streamHandshakeError", `cannot open ${o.url}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    let bound: OpenedStream<T> | undefined;
    const timeoutMs = o.openTimeoutMs ?? OPEN_TIMEOUT_MS;
    const timer = setTimeout(() => {
      reject(
        fail("streamConnectionTimeout", `the WebSocket at ${o.url} did not open within ${timeoutMs} ms`),
      );
      ws.close();
    }, timeoutMs);
    ws.addEventListener("close", () => {
      clearTimeout(timer);
      if (bound) bound.closed();
      else reject(fail("streamHandshakeError", `the WebSocket at ${o.url} did not open`));
    });
    ws.addEventListener("error", (ev) => {
      if (bound) return;
      const message = (ev as unknown as { message?: string }).message || "connection failed";
      reject(fail("streamHandshakeError", `the WebSocket at ${o.url} did not open: ${message}`));
    });
    ws.addEventListener("open", () => {
      clearTimeout(timer);
      bound = opened(ws);
      resolve(bound.stream);
    });
    ws.addEventListener("message", (ev) => {
      bound?.message(ev.data);
    });
  });
}

export interface StreamIds {
  readonly accountSid: string;
  readonly callSid: string;
  readonly streamSid: string;
}

/** Builds one stream's messages in order: `sequenceNumber` counts every message after `connected`. */
export class StreamMessages {
  readonly #ids: StreamIds;
  #sequence = 0;

  constructor(ids: StreamIds) {
    this.#ids = ids;
  }

  connected(): object {
    return { event: "connected", protocol: "Call", version: "1.0.0" };
  }

  start(tracks: readonly string[], parameters: Readonly<Record<string, string>>): object {
    const { accountSid, streamSid, callSid } = this.#ids;
    return {
      event: "start",
      sequenceNumber: this.#next(),
      start: {
        accountSid,
        streamSid,
        callSid,
        tracks: [...tracks],
        customParameters: { ...parameters },
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
      streamSid,
    };
  }

  /** One 20 ms frame of base64 μ-law; `timestamp` in ms since the stream started. */
  media(track: string, chunk: number, timestamp: number, payload: string): object {
    return {
      event: "media",
      sequenceNumber: this.#next(),
      media: { track, chunk: String(chunk), timestamp: String(timestamp), payload },
      streamSid: this.#ids.streamSid,
    };
  }

  dtmf(digit: string): object {
    return {
      event: "dtmf",
      streamSid: this.#ids.streamSid,
      sequenceNumber: this.#next(),
      dtmf: { track: "inbound_track", digit },
    };
  }

  mark(name: string): object {
    return { event: "mark", sequenceNumber: this.#next(), streamSid: this.#ids.streamSid, mark: { name } };
  }

  stop(): object {
    const { accountSid, callSid, streamSid } = this.#ids;
    return { event: "stop", sequenceNumber: this.#next(), streamSid, stop: { accountSid, callSid } };
  }

  #next(): string {
    this.#sequence += 1;
    return String(this.#sequence);
  }
}

/** One of the app's messages on a bidirectional stream. */
export type AppMessage =
  | { readonly event: "media"; readonly audio: Buffer }
  | { readonly event: "mark"; readonly name: string }
  | { readonly event: "clear" };

/** Reads one of the app's messages; a string says what was wrong with it (the region warns 31951). */
export function readAppMessage(
  data: unknown,
  streamSid: string,
  bidirectional: boolean,
): AppMessage | string {
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
  if (!bidirectional) return `a "${String(message.event)}" message on a one-way stream`;
  if (message.streamSid !== streamSid) return `streamSid ${String(message.streamSid)}`;
  switch (message.event) {
    case "media": {
      const payload = message.media?.payload;
      if (typeof payload !== "string") return "a media message without a payload";
      return { event: "media", audio: Buffer.from(payload, "base64") };
    }
    case "mark": {
      const name = message.mark?.name;
      if (typeof name !== "string") return "a mark message without a name";
      return { event: "mark", name };
    }
    case "clear":
      return { event: "clear" };
    default:
      return `an unknown "${String(message.event)}" message`;
  }
}
