// <Dial><Conference>: joins the region's conference of that name (per account), shared by calls on
// every worker. A caller who joins a conference that has not started hears its waitUrl until a
// startConferenceOnEnter participant comes; then stays until they hang up or the conference ends
// (an endConferenceOnExit participant left, or the last one did). Status callbacks go out through
// the call's durable outbox, numbered by the conference.
import { ErrorCodes } from "../../../errors/codes.js";
import { fail } from "../../../errors/switchboard-error.js";
import { type ConferenceRecord, DEFAULT_MAX_PARTICIPANTS } from "../../../model/rooms.js";
import { sidFrom } from "../../../model/sid.js";
import { isHandOver } from "../../abort-reasons.js";
import { booleanAttribute, intAttribute, methodAttribute, urlAttribute } from "../../attribute-values.js";
import { recordingStatusEvents } from "../../recording-status.js";
import { participantAudio, recordConference } from "../../room-audio.js";
import type { VerbContext } from "../../verb-context.js";
import type { ParseContext } from "../../verb-definition.js";
import { checkAttributes, checkChildElements, directText } from "../../verb-parsing.js";
import { runWaitMusic } from "../../wait-loop.js";
import { sendEvents } from "./conference-events.js";
import type { ConferenceNoun } from "./data.js";
import type { DialNoun, DialResult } from "./noun.js";
import { endedByDial, endStayOnStar, TIME_LIMIT } from "./stay-end.js";

const ATTRIBUTES = [
  "muted",
  "beep",
  "startConferenceOnEnter",
  "endConferenceOnExit",
  "waitUrl",
  "waitMethod",
  "maxParticipants",
  "record",
  "trim",
  "statusCallback",
  "statusCallbackMethod",
  "statusCallbackEvent",
  "recordingStatusCallback",
  "recordingStatusCallbackMethod",
  "recordingStatusCallbackEvent",
  "eventCallbackUrl",
  "coach",
  "jitterBufferSize",
  "participantLabel",
  "region",
  "recordingConfigurationId",
];

/** statusCallbackEvent's short names and the StatusCallbackEvent values each one turns on. */
const EVENTS: Record<string, readonly string[]> = {
  start: ["conference-start"],
  end: ["conference-end"],
  join: ["participant-join"],
  leave: ["participant-leave"],
  mute: ["participant-mute", "participant-unmute"],
  hold: ["participant-hold", "participant-unhold"],
  modify: ["participant-modify"],
  speaker: ["participant-speech-start", "participant-speech-stop"],
  announcement: ["announcement-end", "announcement-fail"],
};

/** Verbs Twilio runs in a conference's waitUrl document (then it falls silent). */
const WAIT_VERBS = ["Play", "Say", "Pause", "Redirect"] as const;
const MAX_LABEL = 128;

export const conferenceNoun: DialNoun<ConferenceNoun> = {
  name: "Conference",
  parse(el, ctx) {
    checkAttributes(el, ATTRIBUTES, ctx);
    checkChildElements(el, ctx);
    const name = directText(el).trim();
    const schema = ErrorCodes.schemaValidation.code;
    if (name === "") {
      ctx.warn(schema, "<Conference> needs a room name; skipped");
      return undefined;
    }
    const a = el.attributes;
    const oneOf = <T extends string>(attr: string, values: readonly T[], fallback: T): T => {
      const raw = a[attr];
      if (raw === undefined) return fallback;
      if ((values as readonly string[]).includes(raw)) return raw as T;
      ctx.warn(schema, `<Conference> ${attr}="${raw}" is not one of ${values.join(", ")}; using ${fallback}`);
      return fallback;
    };
    const events = (a.statusCallbackEvent ?? "start end").split(/[\s,]+/).filter(Boolean);
    for (const e of events)
      if (!EVENTS[e]) ctx.warn(schema, `<Conference> statusCallbackEvent "${e}" is unknown; ignored`);
    const label = a.participantLabel;
    if (label !== undefined && label.length > MAX_LABEL)
      ctx.warn(schema, `<Conference> participantLabel is longer than ${MAX_LABEL}; ignored`);
    const statusCallback = urlAttribute(el, "statusCallback", ctx) || undefined;
    const recordingStatusCallback = urlAttribute(el, "recordingStatusCallback", ctx) || undefined;
    return {
      noun: "Conference",
      name,
      muted: booleanAttribute(el, "muted", false, ctx),
      beep: oneOf("beep", ["true", "false", "onEnter", "onExit"] as const, "true"),
      startConferenceOnEnter: booleanAttribute(el, "startConferenceOnEnter", true, ctx),
      endConferenceOnExit: booleanAttribute(el, "endConferenceOnExit", false, ctx),
      waitUrl: urlAttribute(el, "waitUrl", ctx),
      waitMethod: methodAttribute(el, "waitMethod", "POST", ctx),
      maxParticipants: intAttribute(
        el,
        "maxParticipants",
        DEFAULT_MAX_PARTICIPANTS,
        { min: 2, max: 250 },
        ctx,
      ),
      record: oneOf("record", ["do-not-record", "record-from-start"] as const, "do-not-record"),
      ...(recordingStatusCallback && {
        recordingStatusCallback: {
          url: recordingStatusCallback,
          method: methodAttribute(el, "recordingStatusCallbackMethod", "POST", ctx),
          events: recordingStatusEvents(a.recordingStatusCallbackEvent, ctx, "Conference"),
        },
      }),
      trim: oneOf("trim", ["trim-silence", "do-not-trim"] as const, "trim-silence"),
      ...(statusCallback && { statusCallback }),
      statusCallbackMethod: methodAttribute(el, "statusCallbackMethod", "POST", ctx),
      statusCallbackEvents: events.flatMap((e) => EVENTS[e] ?? []),
      ...(a.coach !== undefined && coachOf(a.coach, ctx)),
      jitterBufferSize: oneOf("jitterBufferSize", ["small", "medium", "large", "off"] as const, "large"),
      ...(label !== undefined && label.length <= MAX_LABEL && { participantLabel: label }),
      ...(a.region && { region: a.region }),
    };
  },

  async dial(ctx, noun, options, signal): Promise<DialResult> {
    const conferences = ctx.conferences;
    if (!conferences) throw fail("internalFailure", "<Conference> needs the region's conferences");
    const me = ctx.call.callSid;
    // A caller still ringing (a first Dial with answerOnBridge) is answered as it goes into the room
    // (it hears the wait music, or the others, from there): before the join, so that a failed answer
    // leaves no participant behind with nobody to take it out.
    await ctx.answer();
    const joined = await conferences.join({
      friendlyName: noun.name,
      participant: {
        muted: noun.muted,
        hold: false,
        coaching: noun.coach !== undefined,
        ...(noun.coach && { callSidToCoach: noun.coach }),
        startConferenceOnEnter: noun.startConferenceOnEnter,
        endConferenceOnExit: noun.endConferenceOnExit,
        ...(noun.record === "record-from-start" && { record: true }),
        ...(noun.participantLabel !== undefined && { label: noun.participantLabel }),
      },
      maxParticipants: noun.maxParticipants,
      ...(noun.statusCallback && {
        statusCallback: {
          url: noun.statusCallback,
          method: noun.statusCallbackMethod,
          events: [...noun.statusCallbackEvents],
        },
      }),
    });
    if (joined.kind === "label-taken") {
      ctx.warn(
        ErrorCodes.participantLabelTaken.code,
        `<Conference> participantLabel "${noun.participantLabel}" is taken`,
      );
      // Twilio skips to the next verb: the Dial's action is not requested.
      return { status: "failed", durationS: 0, bridged: false, skip: true };
    }
    if (joined.kind === "full") {
      ctx.warn(
        ErrorCodes.conferenceFull.code,
        `<Conference> ${noun.name} has ${joined.conference.maxParticipants} participants`,
      );
      return {
        status: "failed",
        durationS: 0,
        bridged: false,
        params: { ConferenceSid: joined.conference.sid },
      };
    }
    const sid = joined.conference.sid;
    const joinedAt = ctx.clock.now();
    await sendEvents(ctx, joined.conference, joined.events);

    // The caller hanging up takes them out of the conference. This runs after the verb is cancelled
    // and nothing waits on it; the events it causes go out through the call's durable outbox. A call
    // handed to another worker stays in: the verb runs again there and finds itself joined.
    const onHangup = () => {
      if (isHandOver(signal.reason)) return;
      conferences
        .leave(sid)
        .then(({ conference, events }) => conference && sendEvents(ctx, conference, events))
        .catch((err: Error) =>
          ctx.warn(ErrorCodes.internalFailure.code, `<Conference> leaving: ${err.message}`),
        );
    };
    // Cancelled while joining: the listener would never fire on a signal already aborted.
    if (signal.aborted) {
      onHangup();
      signal.throwIfAborted();
    }
    signal.addEventListener("abort", onHangup, { once: true });
    // The Dial's timeLimit ends this participant's stay, as it ends a bridge: counted from when it
    // joined, which for a call resumed on another worker (still a participant) was before the resume.
    // The record's join time is the wall clock's; in a conference the call's clock is paced to it.
    const limit = new AbortController();
    const stop = () => limit.abort(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    const joinedWall = joined.conference.participants.find((p) => p.callSid === me)?.joinedAt;
    const stayedMs = joinedWall === undefined ? 0 : Math.max(0, Date.now() - joinedWall);
    const timer = ctx.clock.setTimeout(
      () => limit.abort(TIME_LIMIT),
      Math.max(0, options.timeLimitS * 1000 - stayedMs),
    );
    // hangupOnStar: the caller's * takes it out of the conference, as the time limit does, and the
    // Dial's action is requested (DialCallStatus=answered).
    endStayOnStar(ctx, options.hangupOnStar, limit);
    let audio: ReturnType<typeof participantAudio> | undefined;
    const recording = new AbortController();
    let recordingStarted = false;
    const inIt = (c: ConferenceRecord | undefined) =>
      c !== undefined && c.status !== "completed" && c.participants.some((p) => p.callSid === me);
    try {
      let startedAt: number | undefined = joined.conference.status === "in-progress" ? joinedAt : undefined;
      if (startedAt === undefined) {
        await untilStarted(ctx, noun, sid, inIt, limit.signal);
        startedAt = ctx.clock.now();
      }
      // Started: a call with real audio hears the others now, and follows its mute, hold and coach.
      audio = participantAudio(ctx, { sid, friendlyName: noun.name, beep: noun.beep });
      const live = audio;
      // record-from-start: the first participant still in the started conference that asked for it
      // records its mix (every call reads the same record, so exactly one does). Not the first one
      // in: a caller who joined before the one asking (and ended it with endConferenceOnExit) left
      // the conference unrecorded.
      const recordIfFirst = (c: ConferenceRecord | undefined) => {
        if (noun.record !== "record-from-start" || recording.signal.aborted || recordingStarted) return;
        if (c?.status !== "in-progress" || c.participants.find((p) => p.record)?.callSid !== me) return;
        recordingStarted = true;
        // Named by this stay in the conference (its join time is the record's), so a resumed call's
        // recording keeps its RecordingSid.
        const joined = String(joinedWall ?? joinedAt);
        const recordingSid = ctx.stableSid?.("RE", sid, me, joined) ?? sidFrom("RE", sid, me, joined);
        recordConference(ctx, sid, recordingSid, noun.recordingStatusCallback, recording.signal);
      };
      await conferences.waitFor(
        sid,
        (c) => {
          live.watch(c);
          recordIfFirst(c);
          return !inIt(c);
        },
        limit.signal,
      );
      return {
        status: "answered",
        durationS: seconds(ctx, startedAt),
        bridged: true,
        params: { ConferenceSid: sid },
      };
    } catch (err) {
      if (!endedByDial(limit) || signal.aborted) throw err;
      const { conference, events } = await conferences.leave(sid);
      if (conference) await sendEvents(ctx, conference, events);
      return {
        status: "answered",
        durationS: seconds(ctx, joinedAt),
        bridged: true,
        params: { ConferenceSid: sid },
      };
    } finally {
      // Handed over, the call stays in the room: the verb runs again on the next worker.
      audio?.stop(isHandOver(signal.reason) ? signal.reason : undefined);
      recording.abort(isHandOver(signal.reason) ? signal.reason : new Error("left the conference"));
      ctx.clock.clearTimeout(timer);
      // Stops the * listener (hangupOnStar) when the conference ended without it.
      limit.abort(isHandOver(signal.reason) ? signal.reason : new Error("left the conference"));
      signal.removeEventListener("abort", stop);
      signal.removeEventListener("abort", onHangup);
    }
  },
};

/** `coach` names the CallSid of the participant to coach; anything else is 13240 and ignored. */
function coachOf(raw: string, ctx: ParseContext): { coach?: string } {
  if (/^CA[0-9a-fA-F]{32}$/.test(raw)) return { coach: raw };
  ctx.warn(ErrorCodes.conferenceInvalidCoach.code, `<Conference> coach="${raw}" is not a CallSid; ignored`);
  return {};
}

const seconds = (ctx: VerbContext, since: number) => Math.round((ctx.clock.now() - since) / 1000);

/** Plays the waitUrl until the conference starts (or ends, or drops this caller). */
async function untilStarted(
  ctx: VerbContext,
  noun: ConferenceNoun,
  sid: string,
  inIt: (c: ConferenceRecord | undefined) => boolean,
  signal: AbortSignal,
): Promise<void> {
  const conferences = ctx.conferences;
  if (!conferences) return;
  const music = new AbortController();
  const stop = () => music.abort(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  try {
    runWaitMusic(
      ctx,
      {
        url: noun.waitUrl,
        method: noun.waitMethod,
        allowed: WAIT_VERBS,
        atEnd: "silence",
        what: "<Conference> waitUrl",
        params: () => ({ ConferenceSid: sid, FriendlyName: noun.name }),
      },
      music.signal,
    ).catch(() => {});
    await conferences.waitFor(sid, (c) => !inIt(c) || c?.status === "in-progress", signal);
  } finally {
    signal.removeEventListener("abort", stop);
    music.abort(new Error("the conference started"));
  }
}
