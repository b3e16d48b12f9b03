// A <Number url> (or Client/Sip url) whisper: TwiML run on the callee after it answers and before the
// bridge. Only Say, Play, Pause, Gather and Hangup are allowed (a Dial there is 13201); a Gather's
// action or a Redirect fetches the next whisper document. <Hangup> (or <Reject>) means the callee
// declined the call; running out of verbs bridges it.
import type { CallFacts } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import { fail } from "../../errors/switchboard-error.js";
import type { HttpMethod } from "../../model/http.js";
import type { Callee } from "../../protocol/offer.js";
import { documentFromResponse } from "../../twiml/from-response.js";
import type { DialNetwork } from "../../twiml/ports/dial-network.js";
import type { MediaStreams } from "../../twiml/ports/media-streams.js";
import type { RecordingPort } from "../../twiml/ports/recordings.js";
import { executeVerb } from "../../twiml/registry.js";
import type { VerbContext } from "../../twiml/verb-context.js";
import { idempotencyToken } from "../../webhook/idempotency.js";
import { callParams } from "../../webhook/params.js";
import { requestWebhook } from "../../webhook/request.js";
import { CalleeChannel } from "../channel/callee-channel.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";

// Twilio allows only these in a whisper (twilio-voice-spec.md, <Number url>); the rest are skipped.
const ALLOWED = new Set(["Say", "Play", "Gather", "Hangup"]);
/** Whisper documents one leg may fetch (a Gather loop at time-scale 0 must end). */
const MAX_DOCUMENTS = 20;

const noDialing: DialNetwork = {
  ring: async () => {
    throw fail("schemaValidation", "a whisper cannot <Dial>");
  },
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
): Promise<"accepted" | "declined"> {
  const account = leg.accountSid ? rt.directory.accounts.get(leg.accountSid) : undefined;
  if (!account) throw fail("notFound", `unknown account ${leg.accountSid}`);
  const warn = (code: number, message: string) =>
    rt.outbox.notifier.notify({
      accountSid: account.sid,
      callSid: leg.callSid,
      level: "warning",
      code,
      message,
    });
  const ctx: VerbContext = {
    channel: new CalleeChannel(parent.clock, callee),
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
  };
  let next: { url: string; method: HttpMethod; params: Record<string, string> } = { ...whisper, params: {} };
  for (let document = 1; document <= MAX_DOCUMENTS; document++) {
    const res = await parent.clock.holding(() =>
      requestWebhook({
        url: next.url,
        method: next.method,
        params: callParams(leg, "in-progress", next.params),
        authToken: account.auth_token,
        ...(account.webhook_signing_key && { signingKey: account.webhook_signing_key }),
        headers: { "X-Home-Region": rt.region },
        idempotencyToken: idempotencyToken(leg.callSid, "whisper", document),
        signal,
      }),
    );
    const doc = documentFromResponse(res);
    for (const w of doc.warnings) warn(w.code, w.message);
    let fetch: typeof next | undefined;
    for (const verb of doc.verbs) {
      if (!ALLOWED.has(verb.name)) {
        const code =
          verb.name === "Dial" ? ErrorCodes.dialOutFromDialSegment.code : ErrorCodes.schemaValidation.code;
        warn(code, `<${verb.name}> is not allowed in a whisper; skipped`);
        continue;
      }
      const outcome = await executeVerb(ctx, verb, signal);
      if (outcome.kind === "hangup" || outcome.kind === "reject") return "declined";
      if (outcome.kind === "fetch") {
        fetch = { url: outcome.url, method: outcome.method, params: { ...outcome.params } };
        break;
      }
    }
    if (!fetch) return "accepted";
    next = fetch;
  }
  throw fail(
    "tooManyDocuments",
    `the whisper of ${leg.callSid} requested more than ${MAX_DOCUMENTS} documents`,
  );
}
