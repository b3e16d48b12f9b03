// How a call's Media Stream is opened: by the region itself (MediaStream, a simulated call's silence)
// or by the SIP gateway that holds the call's real audio (RemoteChannel.openStream).
import type { StreamNoun } from "../../twiml/verb-data.js";
import type { MediaStreamOptions } from "./media-stream.js";

/** An open stream, as CallStreams keeps it. */
export interface OpenStream {
  /** Resolves when the socket has closed; `server` when the app's server closed it. */
  readonly ended: Promise<"server" | "engine">;
  /** Sends `stop` and closes the socket. */
  stop(): void;
  /**
   * A SIP call's stream, held by its gateway: the gateway's id for it, stored with the call so that
   * a worker that resumes the call takes the stream back (StreamOpener's `reattach`).
   */
  readonly id?: string;
  /** The call moved to another worker: stops waiting for the stream, leaving it open for that worker. */
  detach?(): void;
}

/** Opens a stream; rejects with 31920/31901 when its socket cannot open. */
export type StreamOpener = (o: MediaStreamOptions) => Promise<OpenStream>;

/** A stream its gateway still holds, open before the call was resumed here, by its id. */
export type StreamReattacher = (id: string, onInvalidMessage: (reason: string) => void) => OpenStream;

/** A stream its gateway holds, as the call's snapshot keeps it (`sb.streams`). */
export interface StoredStream {
  id: string;
  streamSid: string;
  noun: StreamNoun;
  /** A `<Connect>` stream (its verb, run again, takes it back); otherwise a `<Start>` one. */
  connect?: true;
}
