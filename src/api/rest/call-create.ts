// POST Calls.json: places an outbound call as Twilio does. The api runs no call: it checks the
// request, then stores the call's job in the call stream of its From number's region, on that
// region's `outbound` subject (the only one the api may place calls on), and answers the queued
// Call resource with 201. A worker there rings `To` and runs the TwiML (docs/outbound.md).
import { jetstream } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { callResource } from "../../model/call-resource.js";
import { isE164 } from "../../model/phone.js";
import { newSid } from "../../model/sid.js";
import { type CallJob, CallJobSchema } from "../../protocol/call-job.js";
import { encode } from "../../protocol/codec.js";
import {
  MAX_TWIML_CHARS,
  OUTBOUND_EVENTS,
  type Outbound,
  type OutboundEvent,
} from "../../protocol/outbound.js";
import { subjects } from "../../protocol/subjects.js";
import { CallSids } from "../../store/call-sids.js";
import { callerIdRegion } from "../../store/caller-ids.js";
import { regionFromHost } from "../region-from-host.js";
import { accountParams, callSchema } from "./calls.js";
import type { RestContext } from "./context.js";
import { formBody, HTTP_METHOD, responses, STRING } from "./schemas.js";

/**
 * Create parameters Twilio takes that switchboard does not carry out: refused with 20422 naming the
 * parameter, never ignored (docs/outbound.md). `Record` is refused only when true.
 */
export const UNSUPPORTED_CREATE = [
  "ApplicationSid",
  "AsyncAmd",
  "AsyncAmdStatusCallback",
  "AsyncAmdStatusCallbackMethod",
  "Byoc",
  "CallReason",
  "CallToken",
  "CallerId",
  "ClientNotificationUrl",
  "MachineDetection",
  "MachineDetectionSilenceTimeout",
  "MachineDetectionSpeechEndThreshold",
  "MachineDetectionSpeechThreshold",
  "MachineDetectionTimeout",
  "RecordingChannels",
  "RecordingStatusCallback",
  "RecordingStatusCallbackEvent",
  "RecordingStatusCallbackMethod",
  "RecordingTrack",
  "SipAuthPassword",
  "SipAuthUsername",
  "TimeLimit",
  "Trim",
];

/** Twilio's default ringing time for a REST call, and its cap. */
const DEFAULT_TIMEOUT_S = 60;
const MAX_TIMEOUT_S = 600;

type CreateBody = Record<string, string | string[] | undefined>;

export async function callCreateRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  const js = jetstream(ctx.nc);
  const callSids = await CallSids.open(ctx.nc);
  const stores = {
    routing: ctx.global.routing,
    numbers: (region: string) => ctx.buckets.numbers(region),
    callerIds: ctx.global.callerIds,
  };
  app.post(
    "/Accounts/:AccountSid/Calls.json",
    {
      schema: {
        operationId: "CreateCall",
        summary: "Place an outbound call from one of the account's numbers (docs/outbound.md)",
        tags: ["Calls"],
        params: accountParams,
        body: formBody({
          To: { ...STRING, description: "An E.164 number, a sip: URI or client:name" },
          From: { ...STRING, description: "One of the account's numbers (21210 otherwise)" },
          Url: { ...STRING, description: "The TwiML to run once the callee answers" },
          Method: HTTP_METHOD,
          Twiml: { ...STRING, description: `TwiML to run instead (at most ${MAX_TWIML_CHARS} characters)` },
          FallbackUrl: STRING,
          FallbackMethod: HTTP_METHOD,
          StatusCallback: STRING,
          StatusCallbackMethod: HTTP_METHOD,
          StatusCallbackEvent: {
            anyOf: [STRING, { type: "array", items: STRING }],
            description: "initiated, ringing, answered, completed (repeat the parameter; default completed)",
          },
          Timeout: { ...STRING, description: "Seconds the callee may ring (default 60, at most 600)" },
          SendDigits: STRING,
          Record: STRING,
        }),
        response: responses(callSchema, 201),
      },
    },
    async (req, reply) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const body = (req.body ?? {}) as CreateBody;
      const { to, from, outbound } = readCreate(body);
      const region = await callerIdRegion(stores, AccountSid, from, regionFromHost(req.headers.host));
      if (!region) {
        throw fail(
          "fromNotVerified",
          `The source phone number provided, ${from}, is not yet verified for your account: it is not one of its numbers or verified caller IDs`,
        );
      }
      const job: CallJob = {
        callSid: newSid("CA"),
        to,
        from,
        accountSid: AccountSid,
        edge: ctx.outbound.edge,
        region,
        offeredAt: Date.now(),
        ...(ctx.outbound.script && { caller: ctx.outbound.script }),
        outbound,
      };
      CallJobSchema.parse(job);
      // A CallSid is one call for ever (sb_callsids): claimed, as the edge claims an offer's, so no
      // offer can reuse it. A fresh random sid is nobody's.
      const claim = { accountSid: AccountSid, to, region, stored: false };
      const claimed = await callSids.claim(job.callSid, claim);
      if (!claimed.claimed) throw fail("internalServerError", `CallSid ${job.callSid} is taken; retry`);
      try {
        await js.publish(subjects().regionOutbound(region), encode(job), {
          msgID: job.callSid,
          timeout: 5_000,
        });
      } catch (err) {
        throw fail(
          "regionUnavailable",
          `region ${region} did not store the call: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      await callSids.markStored(job.callSid, claim, claimed.revision);
      const created = Date.now();
      const call = callResource(
        {
          facts: {
            callSid: job.callSid,
            accountSid: AccountSid,
            to,
            from,
            region,
            edge: job.edge,
            direction: "outbound-api",
            apiVersion: "2010-04-01",
            phoneNumberSid: null,
          },
          status: "queued",
          arrivedAt: created,
          answeredAt: null,
          endedBy: "app",
          rejectReason: null,
          error: null,
          statusCallback: null,
        },
        null,
        created,
      );
      // Twilio has no start time for a call still queued.
      return reply.code(201).send({ ...call, start_time: null });
    },
  );
}

/** The request's To, From and what the region needs to run the call, with Twilio's codes. */
function readCreate(body: CreateBody): { to: string; from: string; outbound: Outbound } {
  const unsupported = UNSUPPORTED_CREATE.find((name) => body[name] !== undefined);
  if (unsupported)
    throw fail("invalidParameter", `switchboard does not support ${unsupported} on a new call`);
  if (body.Record !== undefined && one(body.Record, "Record").toLowerCase() !== "false") {
    throw fail("invalidParameter", "switchboard does not support Record on a new call (Record=true)");
  }
  const to = body.To === undefined ? "" : one(body.To, "To");
  const from = body.From === undefined ? "" : one(body.From, "From");
  if (!to) throw fail("noToNumber", "A 'To' phone number is required.");
  if (!from) throw fail("noFromNumber", "A 'From' phone number is required.");
  if (!isE164(to) && !/^sip:[^\s@]+@[^\s]+$/.test(to) && !/^client:[\w.-]{1,256}$/.test(to)) {
    throw fail(
      "invalidToNumber",
      `The 'To' number ${to} is not a valid phone number, SIP URI or client identifier.`,
    );
  }
  if (!isE164(from))
    throw fail("invalidFromNumber", `The 'From' number ${from} is not a valid phone number.`);
  const url = body.Url === undefined ? undefined : one(body.Url, "Url");
  const twiml = body.Twiml === undefined ? undefined : one(body.Twiml, "Twiml");
  if (!url && twiml === undefined)
    throw fail("noVoiceUrl", "Either a 'Url' or 'Twiml' parameter is required.");
  for (const name of ["Url", "FallbackUrl", "StatusCallback"] as const) {
    const value = body[name];
    if (value !== undefined && !/^https?:\/\/[^/\s]+/i.test(one(value, name))) {
      throw fail("invalidUrl", `${name} must be an absolute http or https URL: ${value}`);
    }
  }
  // Twilio: with both, the Url is fetched and the Twiml ignored.
  if (!url && twiml !== undefined && twiml.length > MAX_TWIML_CHARS) {
    throw fail("twimlParamTooLong", `Twiml is ${twiml.length} characters; the limit is ${MAX_TWIML_CHARS}`);
  }
  const sendDigits = body.SendDigits === undefined ? undefined : one(body.SendDigits, "SendDigits");
  if (sendDigits !== undefined && !/^[0-9#*wW]{1,32}$/.test(sendDigits)) {
    throw fail("invalidParameter", `SendDigits may hold 0-9, #, *, w and W (at most 32): ${sendDigits}`);
  }
  const statusCallback =
    body.StatusCallback === undefined ? undefined : one(body.StatusCallback, "StatusCallback");
  const events = eventsOf(body.StatusCallbackEvent);
  return {
    to,
    from,
    outbound: {
      ...(url ? { url } : { twiml: twiml as string }),
      method: methodOf(body.Method, "Method"),
      ...(body.FallbackUrl !== undefined && { fallbackUrl: one(body.FallbackUrl, "FallbackUrl") }),
      fallbackMethod: methodOf(body.FallbackMethod, "FallbackMethod"),
      ...(statusCallback && {
        statusCallback: {
          url: statusCallback,
          method: methodOf(body.StatusCallbackMethod, "StatusCallbackMethod"),
          events,
        },
      }),
      timeoutS: timeoutOf(body.Timeout),
      ...(sendDigits && { sendDigits }),
    },
  };
}

function one(value: string | string[], name: string): string {
  if (Array.isArray(value)) throw fail("invalidParameter", `${name} was given more than once`);
  return value;
}

function methodOf(value: string | string[] | undefined, name: string): "GET" | "POST" {
  return value === undefined ? "POST" : (one(value, name).toUpperCase() as "GET" | "POST");
}

/** StatusCallbackEvent: repeated, or space-separated as some clients send it; default `completed`. */
function eventsOf(value: string | string[] | undefined): OutboundEvent[] {
  if (value === undefined) return ["completed"];
  const events = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
  const bad = events.find((e) => !(OUTBOUND_EVENTS as readonly string[]).includes(e));
  if (bad)
    throw fail("invalidParameter", `StatusCallbackEvent ${bad} is not one of ${OUTBOUND_EVENTS.join(", ")}`);
  return [...new Set(events)] as OutboundEvent[];
}

/** Timeout: whole seconds; Twilio rings at most 600 s, whatever is asked. */
function timeoutOf(value: string | string[] | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_S;
  const text = one(value, "Timeout");
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1)
    throw fail("invalidParameter", `Timeout must be a whole number of seconds: ${text}`);
  return Math.min(n, MAX_TIMEOUT_S);
}
