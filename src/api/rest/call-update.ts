// POST Calls/{Sid}.json: changes a live call through the live-call control path. The request goes
// to `sb.region.<r>.call.<sid>.control`, which only the worker hosting the call answers; when
// nobody answers in time the stored record tells an ended call (21220) from an unknown one (20404).
import type { Msg } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { type CallResource, TERMINAL_STATUSES } from "../../model/records.js";
import { type CallControl, parseCallControl, readCallControlReply } from "../../protocol/call-control.js";
import { encode } from "../../protocol/codec.js";
import { readReply } from "../../protocol/service-error.js";
import { subjects } from "../../protocol/subjects.js";
import { regionOf } from "../region-from-host.js";
import { CONTROL_TIMEOUT_MS } from "./call-control-timeout.js";
import { timeLimitOf } from "./call-create-params.js";
import { liveCall, storedCall } from "./call-lookup.js";
import { callParams, callSchema } from "./calls.js";
import type { RestContext } from "./context.js";
import { formBody, HTTP_METHOD, responses, STRING } from "./schemas.js";

/** Update parameters Twilio takes that switchboard does not carry out yet: refused, not ignored. */
const UNSUPPORTED = ["FallbackUrl", "FallbackMethod", "StatusCallback", "StatusCallbackMethod"];

interface UpdateBody {
  Url?: string;
  Method?: string;
  Twiml?: string;
  Status?: "completed" | "canceled";
  TimeLimit?: string;
  [name: string]: unknown;
}

export async function callUpdateRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  app.post(
    "/Accounts/:AccountSid/Calls/:CallSid.json",
    {
      schema: {
        operationId: "UpdateCall",
        summary: "Change a live call: run new TwiML (Url or Twiml) or end it (Status)",
        tags: ["Calls"],
        params: callParams,
        body: formBody({
          Url: { ...STRING, description: "Fetch this URL now and run the TwiML it returns" },
          Method: HTTP_METHOD,
          Twiml: { ...STRING, description: "TwiML to run now (at most 4000 characters: 32018)" },
          Status: { type: "string", enum: ["completed", "canceled"] },
          TimeLimit: { ...STRING, description: "Seconds the call may last from its answer" },
        }),
        response: responses(callSchema),
      },
    },
    async (req) => {
      const { AccountSid, CallSid } = req.params as { AccountSid: string; CallSid: string };
      const region = regionOf(req);
      const change = controlOf((req.body ?? {}) as UpdateBody);
      const gone = () => fail("notFound", `The requested resource ${req.url} was not found`);
      // Why a call that is not live cannot be changed, from its record (or its absence).
      const refusal = (stored: CallResource | undefined) => {
        if (stored?.account_sid !== AccountSid) return gone();
        if (!TERMINAL_STATUSES.has(stored.status)) {
          return fail("callNotInProgress", `Call ${CallSid} (${stored.status}) is not live on any worker`);
        }
        return fail("callNotInProgress", `Call ${CallSid} is ${stored.status}: it is not in progress`);
      };
      const ended = async () => refusal(await storedCall(ctx.buckets, region, CallSid));
      // The live call's account comes from its snapshot: another account's call is never touched. A
      // <Dial> leg has no snapshot: its record (written as it rings and answers, with its parent)
      // says whose it is, and the worker of the call it is bridged to answers for it.
      let live = await liveCall(ctx.buckets, region, CallSid);
      if (!live) {
        const stored = await storedCall(ctx.buckets, region, CallSid);
        if (!stored?.parent_call_sid || TERMINAL_STATUSES.has(stored.status)) throw refusal(stored);
        live = stored;
      }
      if (live.account_sid !== AccountSid) throw gone();
      let msg: Msg;
      try {
        msg = await ctx.nc.request(subjects().callControl(region, CallSid), encode(change), {
          timeout: CONTROL_TIMEOUT_MS,
        });
      } catch {
        // No worker hosts it (no responders, or silence): it ended meanwhile, or never ran here.
        throw await ended();
      }
      return readCallControlReply(readReply(msg));
    },
  );
}

function controlOf(body: UpdateBody): CallControl {
  const unsupported = UNSUPPORTED.find((name) => body[name] !== undefined);
  if (unsupported)
    throw fail("invalidParameter", `switchboard does not support ${unsupported} on a call update`);
  const timeLimitS = timeLimitOf(body.TimeLimit);
  if (!body.Url && body.Twiml === undefined && !body.Status && timeLimitS === undefined) {
    throw fail("noVoiceUrl", "a call update needs Url, Twiml, Status or TimeLimit");
  }
  if (body.Url !== undefined && !/^https?:\/\/[^/\s]+/i.test(body.Url)) {
    throw fail("invalidUrl", `Url must be an absolute http or https URL: ${body.Url}`);
  }
  return parseCallControl({
    ...(body.Url && { url: body.Url }),
    ...(body.Method && { method: body.Method.toUpperCase() }),
    ...(body.Twiml !== undefined && { twiml: body.Twiml }),
    ...(body.Status && { status: body.Status }),
    ...(timeLimitS !== undefined && { timeLimitS }),
  });
}
