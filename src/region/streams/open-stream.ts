// How a call's Media Stream is opened: by the region itself (MediaStream, a simulated call's silence)
// or by the SIP gateway that holds the call's real audio (RemoteChannel.openStream).
import type { MediaStreamOptions } from "./media-stream.js";

/** An open stream, as CallStreams keeps it. */
export interface OpenStream {
  /** Resolves when the socket has closed; `server` when the app's server closed it. */
  readonly ended: Promise<"server" | "engine">;
  /** Sends `stop` and closes the socket. */
  stop(): void;
}

/** Opens a stream; rejects with 31920/31901 when its socket cannot open. */
export type StreamOpener = (o: MediaStreamOptions) => Promise<OpenStream>;
