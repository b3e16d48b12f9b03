// A Media Stream of a SIP call: its gateway holds the audio, so the gateway opens the app's WebSocket
// (`stream`) and the region waits on it (`stream-ended`, a long command pinged like a prompt, so a lost
// gateway ends it); stopping it sends `stop` for that id. The Stream's callbacks stay the region's.
import type { SipCommand } from "../../protocol/sip-commands.js";
import { parseStreamEndedReply } from "../../protocol/sip-commands.js";
import { CallHandedOver } from "../../twiml/abort-reasons.js";
import type { MediaStreamOptions } from "../streams/media-stream.js";
import type { OpenStream } from "../streams/open-stream.js";

/** The gateway's handshake limit (10 s, as on simulated calls) and the round trip around it. */
export const STREAM_OPEN_TIMEOUT_MS = 15_000;

export interface StreamCommands {
  short(cmd: SipCommand, timeoutMs: number): Promise<unknown>;
  /**
   * With `replyOnAbort`, an abort sends `stop` for the id and still waits (a bounded while) for the
   * reply; with `keptOnHandOver`, an abort for a hand-over sends nothing and waits for nothing.
   */
  long(
    cmd: Extract<SipCommand, { id: string }>,
    signal: AbortSignal,
    opts: { replyOnAbort: boolean; keptOnHandOver: boolean },
  ): Promise<unknown>;
}

export async function openRemoteStream(
  gateway: StreamCommands,
  id: string,
  o: MediaStreamOptions,
): Promise<OpenStream> {
  await gateway.short(
    {
      op: "stream",
      id,
      url: o.url,
      streamSid: o.streamSid,
      accountSid: o.accountSid,
      callSid: o.callSid,
      track: o.track,
      parameters: { ...o.parameters },
      bidirectional: o.bidirectional,
    },
    STREAM_OPEN_TIMEOUT_MS,
  );
  return reattachRemoteStream(gateway, id, o.onInvalidMessage);
}

/**
 * Waits on a stream the gateway holds (`stream-ended`): one this worker opened, or one open before
 * the call was resumed here (the gateway answers every wait on it when it ends).
 */
export function reattachRemoteStream(
  gateway: StreamCommands,
  id: string,
  onInvalidMessage: (reason: string) => void,
): OpenStream {
  const stopping = new AbortController();
  // Stopped here, the reply still comes (the gateway closes the socket at once): it may carry a 31951.
  const ended = gateway
    .long({ op: "stream-ended", id }, stopping.signal, { replyOnAbort: true, keptOnHandOver: true })
    .then(
      (value) => {
        const reply = parseStreamEndedReply(value);
        if (reply.invalid !== undefined) onInvalidMessage(reply.invalid);
        return reply.by;
      },
      // Stopped here (the gateway is told), or the gateway lost the call: either way the stream is over.
      () => (stopping.signal.aborted ? "engine" : "server") as "server" | "engine",
    );
  return {
    ended,
    id,
    stop: () => stopping.abort(new Error("stream stopped")),
    detach: () => stopping.abort(new CallHandedOver("the call moved to another worker")),
  };
}
