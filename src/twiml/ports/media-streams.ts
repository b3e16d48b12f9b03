// The MediaStreams port: the call's Media Streams WebSockets, opened by <Connect> and <Start>.
import type { StreamNoun } from "../verb-data.js";

/**
 * The call's Media Streams (a port, one per live call): the region keeps the WebSockets open across
 * verbs and closes them when the call ends.
 */
export interface MediaStreams {
  /**
   * Opens a bidirectional stream (`<Connect><Stream>`) and resolves when the server closes it;
   * rejects with a SwitchboardError (31920…) when it cannot open, or with the signal's reason.
   */
  connect(stream: StreamNoun, signal: AbortSignal): Promise<void>;
  /** Opens a unidirectional stream that runs until stopped or the call ends; resolves once it is open. */
  start(stream: StreamNoun): Promise<void>;
  /** Stops the call's running stream of that name (every one when `name` is undefined). */
  stop(name: string | undefined): Promise<void>;
}
