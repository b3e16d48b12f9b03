// A call's channel as its host holds it (the simulated channel, or a SIP call's RemoteChannel): the
// Channel port the verbs use, plus what the host feeds it and what a resumed call needs from it.
import type { CallerEvent } from "../../protocol/channel-events.js";
import type { Channel, RecordedAudio } from "../../twiml/ports/channel.js";
import type { ChannelState } from "../channel/simulated-channel.js";
import type { StreamOpener, StreamReattacher } from "../streams/open-stream.js";

/** A call's channel as its host holds it: the port, plus live input and what a resumed call needs. */
export interface HostedChannel extends Channel {
  /** Live input from `.in`: keys and speech for a listening Gather. */
  input(event: CallerEvent): void;
  state(): ChannelState;
  resumeScript(answeredAt: number | null): void;
  /** The caller hung up (`.in`): noted before the call hears of it, so a cancelled Record says "hangup". */
  callerHungUp(): void;
  /** Opens Media Streams where the call's audio is (a SIP call's gateway); absent: the region's own. */
  openStream?: StreamOpener;
  /** Takes back a stream the call's gateway holds (a resumed call's `<Start>` or `<Connect>` one). */
  reattachStream?: StreamReattacher;
  /**
   * The recording its gateway made of the whole call (an outbound leg placed with `record`), once the
   * call is over there; rejects when the gateway has none (lost with it). Absent: no real audio.
   */
  callRecording?(id: string): Promise<RecordedAudio>;
}
