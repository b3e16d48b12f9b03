// POST Calls.json: places an outbound call as Twilio does. The api runs no call: it checks the
// request, then stores the call's job in the call stream of the request's region (its Host, as on
// Twilio: a call made through api.dublin.ie1 runs and is kept in ie1, whichever region routes its
// From number), on that region's `outbound` subject (the only one the api may place calls on), and
// answers the queued Call resource with 201. A worker there rings `To` and runs the TwiML
// (docs/outbound.md).
import { jetstream } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { callResource } from "../../model/call-resource.js";
import { newSid } from "../../model/sid.js";
import { type CallJob, CallJobSchema } from "../../protocol/call-job.js";
import { encode } from "../../protocol/codec.js";
import { MAX_TWIML_CHARS } from "../../protocol/outbound.js";
import { subjects } from "../../protocol/subjects.js";
import { CallSids } from "../../store/call-sids.js";
import { callerIdOf } from "../../store/caller-ids.js";
import { regionOf } from "../region-from-host.js";
import { type CreateBody, readCreate } from "./call-create-params.js";
import { accountParams, callSchema } from "./calls.js";
import type { RestContext } from "./context.js";
import { outboundTrunkOf } from "./outbound-trunk.js";
import { regionExists } from "./regions.js";
import { formBody, HTTP_METHOD, responses, STRING } from "./schemas.js";

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
          Record: { ...STRING, description: "true keeps the call from its answer as a Recording" },
          RecordingChannels: { type: "string", enum: ["mono", "dual"] },
          RecordingStatusCallback: STRING,
          RecordingStatusCallbackMethod: HTTP_METHOD,
        }),
        response: responses(callSchema, 201),
      },
    },
    async (req, reply) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const body = (req.body ?? {}) as CreateBody;
      const { to, from, outbound } = readCreate(body);
      const region = regionOf(req);
      const caller = await callerIdOf(stores, AccountSid, from);
      if (!caller) {
        throw fail(
          "fromNotVerified",
          `The source phone number provided, ${from}, is not yet verified for your account: it is not one of its numbers or verified caller IDs`,
        );
      }
      // A Host naming a region with no call stream places nothing (and claims no CallSid).
      if (!(await regionExists(ctx.buckets, region))) {
        throw fail(
          "regionUnavailable",
          `region ${region} has no call stream: no region worker has run there`,
        );
      }
      const fromSid = caller.sid;
      // The From number's own trunk, from its config in the region that routes it.
      const trunk = await outboundTrunkOf(ctx, {
        accountSid: AccountSid,
        to,
        ...(caller.number && { number: caller.number }),
      });
      const job: CallJob = {
        callSid: newSid("CA"),
        to,
        from,
        accountSid: AccountSid,
        edge: ctx.outbound.edge,
        region,
        offeredAt: Date.now(),
        ...(ctx.outbound.script && { caller: ctx.outbound.script }),
        outbound: { ...outbound, fromSid, ...(trunk && { trunk }) },
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
            phoneNumberSid: fromSid,
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
