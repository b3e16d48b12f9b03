// A <Number url> (or Client/Sip url) whisper: TwiML run on the callee after it answers and before the
// bridge. Only Say, Play, Gather and Hangup run (a Dial there is 13201); a Gather's action or a
// Redirect fetches the next whisper document (run-document.ts, as wait music does). <Hangup> (or
// <Reject>) means the callee declined the call; running out of verbs bridges it.
import type { CallFacts } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import { fail } from "../../errors/switchboard-error.js";
import type { HttpMethod } from "../../model/http.js";
import type { Callee } from "../../protocol/offer.js";
import type { Channel } from "../../twiml/ports/channel.js";
import type { DialNetwork } from "../../twiml/ports/dial-network.js";
import type { MediaStreams } from "../../twiml/ports/media-streams.js";
import type { RecordingPort } from "../../twiml/ports/recordings.js";
import { executeVerb } from "../../twiml/registry.js";
import { runDocument } from "../../twiml/run-document.js";
import type { VerbContext } from "../../twiml/verb-context.js";
import type { VerbName } from "../../twiml/verb-data.js";
import { idempotencyToken } from "../../webhook/idempotency.js";
import { callParams } from "../../webhook/params.js";
import { CalleeChannel } from "../channel/callee-channel.js";
import { accountOf, fetchCallDocument } from "../effects/call-webhook.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";

// Twilio allows only these in a whisper (twilio-voice-spec.md, <Number url>); the rest are skipped.
const ALLOWED: ReadonlySet<VerbName> = new Set(["Say", "Play", "Gather", "Hangup"]);
/** Whisper documents one leg may fetch (a Gather loop at time-scale 0 must end). */
const MAX_DOCUMENTS = 20;

const noDialing: DialNetwork = {
  ring: async () => {
    throw fail("schemaValidation", "a whisper cannot <Dial>");
  },
  callerIdAllowed: async () => false,
};

/** Ports no whisper verb reaches (ALLOWED keeps Record and the streams out); any use is a bug. */
const refuse = (what: string) => (): never => {
  throw fail("schemaValidation", `${what} cannot run in a whisper`);
};
const noRecordings: RecordingPort = {
  url: refuse("<Record>"),
  store: refuse("<Record>"),
  keep: refuse("<Record>"),
};
const noStreams: MediaStreams = {
  connect: refuse("<Stream>"),
  start: refuse("<Stream>"),
  stop: refuse("<Stream>"),
};

export async function runWhisper(
  rt: RegionRuntime,
  parent: LiveCall,
  leg: CallFacts,
  whisper: { url: string; method: HttpMethod },
  callee: Callee | undefined,
  signal: AbortSignal,
  /** The leg's own channel when it is a call of its own (a SIP leg); else the simulated callee. */
  channel?: Channel,
): Promise<"accepted" | "declined"> {
  const account = accountOf(rt, leg.accountSid);
  const warn = (code: number, message: string) =>
    rt.outbox.notifier.notify({
      accountSid: account.sid,
      callSid: leg.callSid,
      level: "warning",
      code,
      message,
    });
  let documents = 0;
  const ctx: VerbContext = {
    channel: channel ?? new CalleeChannel(parent.clock, rt.webhooks, callee),
    clock: parent.clock,
    call: { ...leg, accountSid: account.sid, transport: "pstn" },
    callParams: (status) => callParams(leg, status),
    warn,
    callback: async () => {},
    legs: noDialing,
    answer: async () => {},
    // Only the verbs in ALLOWED run in a whisper: none of them records or streams.
    recordings: noRecordings,
    streams: noStreams,
    // The leg's requests, made (and inspected, and counted) as every call's are; the leg has no
    // cookies of its own yet, as before it is bridged.
    fetchTwiml: async (url, method, extra, signal) => {
      const { res, doc } = await fetchCallDocument(rt, {
        callSid: leg.callSid,
        accountSid: account.sid,
        url,
        method,
        params: callParams(leg, "in-progress", extra),
        idempotencyToken: idempotencyToken(leg.callSid, "whisper", ++documents),
        signal,
        clock: parent.clock,
      });
      return { ...doc, documentUrl: res.url };
    },
  };
  const end = await runDocument(
    ctx,
    { ...whisper, params: {} },
    {
      allowed: ALLOWED,
      what: "whisper",
      skippedCode: (name) =>
        name === "Dial" ? ErrorCodes.dialOutFromDialSegment.code : ErrorCodes.schemaValidation.code,
      maxDocuments: MAX_DOCUMENTS,
      runVerb: executeVerb,
    },
    signal,
  );
  // <Hangup> (or <Reject>) declines the call; running out of verbs accepts it.
  return end.kind === "hangup" ? "declined" : "accepted";
}
