// Puts a call's real audio into a room, on channels that have it (SIP calls; docs/rooms.md): a queue
// bridge is a room of two; a conference participant follows its record's mute, hold and coach.
import { ErrorCodes } from "../errors/codes.js";
import { rfc2822 } from "../model/dates.js";
import type { ConferenceRecord } from "../model/rooms.js";
import { isHandOver } from "./abort-reasons.js";
import type { RoomHandle, RoomState } from "./ports/channel.js";
import { sendRecordingStatus } from "./recording-status.js";
import type { VerbContext } from "./verb-context.js";
import type { RecordingStatusCallback } from "./verbs/record/data.js";
import { runWaitMusic, type WaitVerbName } from "./wait-loop.js";

/** The room of a queue bridge, named by the dequeued member (both sides know it). */
export const bridgeRoomSid = (memberCallSid: string) => `QB${memberCallSid}`;

/**
 * Both sides of a <Dial><Queue> bridge hear each other until `signal` aborts. Aborted for a
 * hand-over, the call stays in the room at its gateway, as in a conference: the verb run again on
 * the next worker (either side's) joins it again in this one's place, and nobody hears a gap.
 */
export function joinBridgeRoom(ctx: VerbContext, memberCallSid: string, signal: AbortSignal): void {
  const left = new AbortController();
  const leave = () =>
    left.abort(isHandOver(signal.reason) ? signal.reason : new Error("the queue bridge ended"));
  if (signal.aborted) leave();
  else signal.addEventListener("abort", leave, { once: true });
  ctx.channel.joinRoom?.(
    { roomSid: bridgeRoomSid(memberCallSid), muted: false, hold: false, beep: { enter: false, exit: false } },
    left.signal,
  );
}

const HOLD_VERBS: readonly WaitVerbName[] = ["Play", "Say", "Pause", "Redirect"];

/** A conference participant's audio: joined at its first sight in the started conference. */
export interface ParticipantAudio {
  /** The conference as it now is: joins, or passes on a change of mute, hold or coach. */
  watch(conference: ConferenceRecord | undefined): void;
  /**
   * Leaves the room (and stops any hold music). With the verb's hand-over as `reason`, the call stays
   * in the room at its gateway for the next worker to take back (remote-channel.ts).
   */
  stop(reason?: unknown): void;
}

export function participantAudio(
  ctx: VerbContext,
  room: { sid: string; friendlyName: string; beep: "true" | "false" | "onEnter" | "onExit" },
): ParticipantAudio {
  const me = ctx.call.callSid;
  const left = new AbortController();
  let handle: RoomHandle | undefined;
  let last: RoomState | undefined;
  let music: AbortController | undefined;
  const holdMusic = (on: boolean, url?: string, method: "GET" | "POST" = "POST") => {
    if (on === (music !== undefined)) return;
    if (!on) {
      music?.abort(new Error("unheld"));
      music = undefined;
      return;
    }
    music = new AbortController();
    // Twilio's default HoldUrl is its classical hold music, as waitUrl's; an audio HoldUrl loops.
    runWaitMusic(
      ctx,
      {
        url,
        method,
        allowed: HOLD_VERBS,
        atEnd: "loop",
        what: "<Conference> hold music",
        params: () => ({ ConferenceSid: room.sid, FriendlyName: room.friendlyName }),
      },
      music.signal,
    ).catch(() => {});
  };
  return {
    watch(conference) {
      const p = conference?.participants.find((x) => x.callSid === me);
      if (!p || !ctx.channel.joinRoom || left.signal.aborted) return;
      const state: RoomState = {
        muted: p.muted,
        hold: p.hold,
        ...(p.coaching && p.callSidToCoach && { coachOf: p.callSidToCoach }),
      };
      if (!handle) {
        const beep = {
          enter: ["true", "onEnter"].includes(room.beep),
          exit: ["true", "onExit"].includes(room.beep),
        };
        handle = ctx.channel.joinRoom({ roomSid: room.sid, beep, ...state }, left.signal);
      } else if (
        last &&
        (last.muted !== state.muted || last.hold !== state.hold || last.coachOf !== state.coachOf)
      )
        handle.update(state);
      last = state;
      holdMusic(state.hold, p.holdUrl, p.holdMethod);
    },
    stop(reason) {
      holdMusic(false);
      left.abort(reason ?? new Error("left the conference"));
    },
  };
}

/**
 * Records the conference's mix on this call's gateway until `signal` aborts (the participant who
 * started it leaves), then stores it as a Recording of the conference; nothing on a channel without
 * real audio. Stored even when the call hung up: the call's end waits for it. The statuses the
 * noun's recordingStatusCallbackEvent names (in-progress, completed) go to its callback.
 *
 * A call resumed on another worker (its old worker died or handed it over) records again under the
 * same `sid`: the gateway carries the first recording on (call-room.ts), the old worker stores
 * nothing, and the in-progress status sent again has the same key (the outbox sends it once).
 */
export function recordConference(
  ctx: VerbContext,
  conferenceSid: string,
  sid: string,
  callback: RecordingStatusCallback | undefined,
  signal: AbortSignal,
): void {
  const recordRoom = ctx.channel.recordRoom?.bind(ctx.channel);
  if (!recordRoom) return;
  const startTime = ctx.clock.now();
  // Twilio's parameters for a conference recording: it is the conference's, not one call's.
  const params = {
    AccountSid: ctx.call.accountSid,
    ConferenceSid: conferenceSid,
    RecordingUrl: ctx.recordings.url(sid),
    RecordingChannels: "1",
    RecordingStartTime: rfc2822(startTime),
    RecordingSource: "Conference",
  };
  const recorded = recordRoom(conferenceSid, signal);
  recorded.catch(() => {}); // awaited below, once the in-progress status is queued
  ctx.recordings.keep(
    (async () => {
      // A status that cannot be queued costs the app that request, never the recording.
      await sendRecordingStatus(ctx, callback, sid, "in-progress", params).catch((err: Error) =>
        ctx.warn(ErrorCodes.internalFailure.code, `<Conference> recording status: ${err.message}`),
      );
      const audio = await recorded.catch((err: unknown) => {
        // Handed over: the worker the call moved to records on and stores it.
        if (isHandOver(signal.reason)) return undefined;
        throw err;
      });
      if (!audio) return;
      await ctx.recordings.store({
        sid,
        // Carried on through a resume, the recording began its length before now.
        startTime: Math.min(startTime, ctx.clock.now() - audio.durationMs),
        audio,
        transcribe: false,
        source: "Conference",
        conferenceSid,
      });
      const duration = String(Math.round(audio.durationMs / 1000));
      await sendRecordingStatus(ctx, callback, sid, "completed", {
        ...params,
        RecordingDuration: duration,
        ErrorCode: "0",
      });
    })(),
  );
}
