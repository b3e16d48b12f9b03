// Conferences and their Participants (Twilio's shapes), from the region's `sb_conferences_<r>`:
// the account's conferences newest first (filters FriendlyName, Status), one conference, and the
// participants of a live one (a completed conference has none, as on Twilio).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import { rfc2822 } from "../../model/dates.js";
import type { ConferenceRecord, ParticipantRecord } from "../../model/rooms.js";
import { listPath, regionOf } from "../region-from-host.js";
import { queueConferenceCallbacks } from "./conference-callbacks.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { dateFilter } from "./query-dates.js";
import { orIfMissing } from "./region-buckets.js";
import {
  formBody,
  HTTP_METHOD,
  listOf,
  listQuery,
  pathParams,
  resource,
  responses,
  STRING,
  sid,
} from "./schemas.js";

const conferenceSchema = resource("Conference", {
  sid: "string",
  account_sid: "string",
  friendly_name: "string",
  status: "string",
  region: "string",
  api_version: "string",
  date_created: "string",
  date_updated: "string",
  reason_conference_ended: "string?",
  call_sid_ending_conference: "string?",
  subresource_uris: "object",
  uri: "string",
});
const participantSchema = resource("Participant", {
  account_sid: "string",
  call_sid: "string",
  conference_sid: "string",
  label: "string?",
  call_sid_to_coach: "string?",
  coaching: "boolean",
  muted: "boolean",
  hold: "boolean",
  start_conference_on_enter: "boolean",
  end_conference_on_exit: "boolean",
  status: "string",
  queue_time: "string?",
  date_created: "string",
  date_updated: "string",
  uri: "string",
});

const base = (accountSid: string) => `/2010-04-01/Accounts/${accountSid}/Conferences`;

/** Twilio's UpdateParticipant parameters beyond Muted and Hold (with HoldUrl, HoldMethod). */
const UNSUPPORTED_PARTICIPANT_CHANGES = [
  "AnnounceUrl",
  "AnnounceMethod",
  "WaitUrl",
  "WaitMethod",
  "BeepOnExit",
  "EndConferenceOnExit",
  "Coaching",
  "CallSidToCoach",
];

export function conferenceResource(c: ConferenceRecord) {
  const uri = `${base(c.accountSid)}/${c.sid}`;
  return {
    sid: c.sid,
    account_sid: c.accountSid,
    friendly_name: c.friendlyName,
    status: c.status,
    region: c.region,
    api_version: "2010-04-01",
    date_created: rfc2822(c.dateCreated),
    date_updated: rfc2822(c.dateUpdated),
    // Twilio's description gives these enums no null: a live conference leaves them out.
    ...(c.reasonEnded && { reason_conference_ended: c.reasonEnded }),
    call_sid_ending_conference: c.callSidEnding ?? null,
    subresource_uris: { participants: `${uri}/Participants.json`, recordings: `${uri}/Recordings.json` },
    uri: `${uri}.json`,
  };
}

export function participantResource(c: ConferenceRecord, p: ParticipantRecord) {
  return {
    account_sid: c.accountSid,
    call_sid: p.callSid,
    conference_sid: c.sid,
    label: p.label ?? null,
    call_sid_to_coach: p.callSidToCoach ?? null,
    coaching: p.coaching,
    muted: p.muted,
    hold: p.hold,
    start_conference_on_enter: p.startConferenceOnEnter,
    end_conference_on_exit: p.endConferenceOnExit,
    status: "connected",
    queue_time: null,
    date_created: rfc2822(p.joinedAt),
    date_updated: rfc2822(p.joinedAt),
    uri: `${base(c.accountSid)}/${c.sid}/Participants/${p.callSid}.json`,
  };
}

const FILTERS = [
  "FriendlyName",
  "Status",
  "DateCreated",
  "DateCreated>",
  "DateCreated<",
  "DateUpdated",
  "DateUpdated>",
  "DateUpdated<",
] as const;
/** Participants' filters: each `true` or `false`. */
const PARTICIPANT_FILTERS = ["Muted", "Hold", "Coaching"] as const;
const DATE = { ...STRING, description: "YYYY-MM-DD (UTC), or an instant" };
const TRUE_OR_FALSE = { type: "string", enum: ["true", "false"] } as const;

export async function conferenceRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  const store = (req: FastifyRequest) => ctx.buckets.conferences(regionOf(req));
  const notFound = (req: FastifyRequest) =>
    fail("notFound", `The requested resource ${req.url} was not found`);
  const found = async (req: FastifyRequest, accountSid: string, conferenceSid: string) => {
    const s = await store(req);
    const c = await orIfMissing(() => s.get(accountSid, conferenceSid), undefined);
    if (!c) throw notFound(req);
    return c;
  };

  app.get(
    "/Accounts/:AccountSid/Conferences.json",
    {
      schema: {
        operationId: "ListConference",
        summary: "The account's conferences in the request's region, newest first",
        tags: ["Conferences"],
        params: pathParams({ AccountSid: sid("AC") }),
        querystring: listQuery({
          FriendlyName: STRING,
          Status: STRING,
          DateCreated: DATE,
          "DateCreated>": DATE,
          "DateCreated<": DATE,
          DateUpdated: DATE,
          "DateUpdated>": DATE,
          "DateUpdated<": DATE,
        }),
        response: responses(listOf("conferences", conferenceSchema)),
      },
    },
    async (req) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const q = req.query as PageQuery & Partial<Record<(typeof FILTERS)[number], string>>;
      const s = await store(req);
      const created = dateFilter(q, "DateCreated");
      const updated = dateFilter(q, "DateUpdated");
      const all = (await orIfMissing(() => s.list(AccountSid), [])).filter(
        (c) =>
          (q.FriendlyName === undefined || c.friendlyName === q.FriendlyName) &&
          (q.Status === undefined || c.status === q.Status) &&
          (created === undefined || created(c.dateCreated)) &&
          (updated === undefined || updated(c.dateUpdated)),
      );
      return listPage(
        {
          path: listPath(req),
          filters: FILTERS.map((name) => [name, q[name]] as const),
          key: "conferences",
          query: q,
          idOf: (c: ConferenceRecord) => c.sid,
        },
        all,
        (page) => page.map(conferenceResource),
      );
    },
  );

  app.get(
    "/Accounts/:AccountSid/Conferences/:Sid.json",
    {
      schema: {
        operationId: "FetchConference",
        summary: "One conference",
        tags: ["Conferences"],
        params: pathParams({ AccountSid: sid("AC"), Sid: sid("CF") }),
        response: responses(conferenceSchema),
      },
    },
    async (req) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      return conferenceResource(await found(req, AccountSid, Sid));
    },
  );

  app.get(
    "/Accounts/:AccountSid/Conferences/:ConferenceSid/Participants.json",
    {
      schema: {
        operationId: "ListParticipant",
        summary: "A live conference's participants, in the order they joined",
        tags: ["Conferences"],
        params: pathParams({ AccountSid: sid("AC"), ConferenceSid: sid("CF") }),
        querystring: listQuery({ Muted: TRUE_OR_FALSE, Hold: TRUE_OR_FALSE, Coaching: TRUE_OR_FALSE }),
        response: responses(listOf("participants", participantSchema)),
      },
    },
    async (req) => {
      const { AccountSid, ConferenceSid } = req.params as { AccountSid: string; ConferenceSid: string };
      const c = await found(req, AccountSid, ConferenceSid);
      const q = req.query as PageQuery & Partial<Record<(typeof PARTICIPANT_FILTERS)[number], string>>;
      const is = (asked: string | undefined, value: boolean) =>
        asked === undefined || asked === String(value);
      return listPage(
        {
          path: listPath(req),
          filters: PARTICIPANT_FILTERS.map((name) => [name, q[name]] as const),
          key: "participants",
          query: q,
          idOf: (p: ParticipantRecord) => p.callSid,
        },
        c.participants.filter(
          (p) => is(q.Muted, p.muted) && is(q.Hold, p.hold) && is(q.Coaching, p.coaching),
        ),
        (page) => page.map((p) => participantResource(c, p)),
      );
    },
  );

  app.get(
    "/Accounts/:AccountSid/Conferences/:ConferenceSid/Participants/:CallSid.json",
    {
      schema: {
        operationId: "FetchParticipant",
        summary: "One participant of a live conference",
        tags: ["Conferences"],
        params: pathParams({ AccountSid: sid("AC"), ConferenceSid: sid("CF"), CallSid: sid("CA") }),
        response: responses(participantSchema),
      },
    },
    async (req) => {
      const { AccountSid, ConferenceSid, CallSid } = req.params as Record<string, string>;
      const c = await found(req, AccountSid ?? "", ConferenceSid ?? "");
      const p = c.participants.find((x) => x.callSid === CallSid);
      if (!p) throw notFound(req);
      return participantResource(c, p);
    },
  );

  const conferenceParams = pathParams({ AccountSid: sid("AC"), Sid: sid("CF") });
  const participantParams = pathParams({
    AccountSid: sid("AC"),
    ConferenceSid: sid("CF"),
    CallSid: sid("CA"),
  });
  const BOOLEAN = { type: "string", enum: ["true", "false", "True", "False"] };
  const flag = (raw: string | undefined) => (raw === undefined ? undefined : raw.toLowerCase() === "true");

  app.post(
    "/Accounts/:AccountSid/Conferences/:Sid.json",
    {
      schema: {
        operationId: "UpdateConference",
        summary: "Status=completed ends the conference: every participant leaves",
        tags: ["Conferences"],
        params: conferenceParams,
        body: formBody({ Status: { type: "string", enum: ["completed"] } }, ["Status"]),
        response: responses(conferenceSchema),
      },
    },
    async (req) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      const current = await found(req, AccountSid, Sid);
      const { conference, events } = await (await store(req)).end(AccountSid, Sid);
      if (conference) await queueConferenceCallbacks(ctx.nc, conference, events);
      return conferenceResource(conference ?? current);
    },
  );

  app.post(
    "/Accounts/:AccountSid/Conferences/:ConferenceSid/Participants/:CallSid.json",
    {
      schema: {
        operationId: "UpdateParticipant",
        summary: "Mutes or holds a participant (Muted, Hold, HoldUrl, HoldMethod)",
        tags: ["Conferences"],
        params: participantParams,
        body: formBody({ Muted: BOOLEAN, Hold: BOOLEAN, HoldUrl: STRING, HoldMethod: HTTP_METHOD }),
        response: responses(participantSchema),
      },
    },
    async (req) => {
      const { AccountSid = "", ConferenceSid = "", CallSid = "" } = req.params as Record<string, string>;
      const body = (req.body ?? {}) as Record<string, string | undefined> & {
        Muted?: string;
        Hold?: string;
        HoldUrl?: string;
        HoldMethod?: string;
      };
      // Twilio's other participant changes are refused, not ignored: a 200 that changed nothing
      // would tell the app they had been made.
      const unsupported = UNSUPPORTED_PARTICIPANT_CHANGES.find((name) => body[name] !== undefined);
      if (unsupported) {
        throw fail("invalidParameter", `switchboard does not support ${unsupported} on a participant update`);
      }
      const muted = flag(body.Muted);
      const hold = flag(body.Hold);
      const changed = await (await store(req)).setParticipant(AccountSid, ConferenceSid, CallSid, {
        ...(muted !== undefined && { muted }),
        ...(hold !== undefined && { hold }),
        ...(body.HoldUrl && { holdUrl: body.HoldUrl }),
        ...(body.HoldMethod && { holdMethod: body.HoldMethod.toUpperCase() === "GET" ? "GET" : "POST" }),
      });
      if (!changed) throw notFound(req);
      await queueConferenceCallbacks(ctx.nc, changed.conference, changed.events);
      const p = changed.conference.participants.find((x) => x.callSid === CallSid);
      if (!p) throw notFound(req);
      return participantResource(changed.conference, p);
    },
  );

  app.delete(
    "/Accounts/:AccountSid/Conferences/:ConferenceSid/Participants/:CallSid.json",
    {
      schema: {
        operationId: "DeleteParticipant",
        summary: "Removes a participant: its call goes on after its <Dial>",
        tags: ["Conferences"],
        params: participantParams,
        response: responses(null, 204),
      },
    },
    async (req, reply) => {
      const { AccountSid = "", ConferenceSid = "", CallSid = "" } = req.params as Record<string, string>;
      const c = await found(req, AccountSid, ConferenceSid);
      if (!c.participants.some((p) => p.callSid === CallSid)) throw notFound(req);
      const { conference, events } = await (await store(req)).leave(AccountSid, ConferenceSid, CallSid, true);
      if (conference) await queueConferenceCallbacks(ctx.nc, conference, events);
      return reply.code(204).send();
    },
  );
}
