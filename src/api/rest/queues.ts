// Queues and their Members (Twilio's shapes), from the region's `sb_queues_<r>`: list, create (POST
// FriendlyName, MaxSize), fetch, update, delete; members in queue order; POST Url to a member (or
// `Front`) dequeues it: its call leaves the queue and goes on at that Url.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fail } from "../../errors/switchboard-error.js";
import {
  DEFAULT_QUEUE_SIZE,
  MAX_QUEUE_SIZE,
  type MemberRecord,
  type QueueRecord,
} from "../../model/rooms.js";
import type { QueueStore } from "../../store/queue-store.js";
import { listPath, regionOf } from "../region-from-host.js";
import type { RestContext } from "./context.js";
import { listPage, type PageQuery } from "./paging.js";
import { memberResource, memberSchema, queueResource, queueSchema } from "./queue-resources.js";
import { orIfMissing } from "./region-buckets.js";
import { formBody, HTTP_METHOD, listOf, listQuery, pathParams, responses, STRING, sid } from "./schemas.js";

const queueParams = pathParams({ AccountSid: sid("AC"), Sid: sid("QU") });
const memberParams = pathParams({
  AccountSid: sid("AC"),
  QueueSid: sid("QU"),
  CallSid: { type: "string", pattern: "^(CA[0-9a-fA-F]{32}|Front)$" },
});

interface QueueBody {
  FriendlyName?: string;
  MaxSize?: string;
}

function maxSizeOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_QUEUE_SIZE) {
    throw fail("invalidParameter", `MaxSize must be a whole number from 1 to ${MAX_QUEUE_SIZE}`);
  }
  return n;
}

export async function queueRoutes(app: FastifyInstance, ctx: RestContext): Promise<void> {
  const store = (req: FastifyRequest) => ctx.buckets.queues(regionOf(req));
  const notFound = (req: FastifyRequest) =>
    fail("notFound", `The requested resource ${req.url} was not found`);
  const found = async (s: QueueStore, req: FastifyRequest, accountSid: string, queueSid: string) => {
    const q = await orIfMissing(() => s.get(accountSid, queueSid), undefined);
    if (!q) throw notFound(req);
    return q;
  };

  app.get(
    "/Accounts/:AccountSid/Queues.json",
    {
      schema: {
        operationId: "ListQueue",
        summary: "The account's queues in the request's region",
        tags: ["Queues"],
        params: pathParams({ AccountSid: sid("AC") }),
        querystring: listQuery(),
        response: responses(listOf("queues", queueSchema)),
      },
    },
    async (req) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const all = await orIfMissing(async () => (await store(req)).list(AccountSid), []);
      return listPage(
        {
          path: listPath(req),
          key: "queues",
          query: req.query as PageQuery,
          idOf: (q) => q.sid,
        },
        all,
        (page) => page.map((q) => queueResource(q)),
      );
    },
  );

  app.post(
    "/Accounts/:AccountSid/Queues.json",
    {
      schema: {
        operationId: "CreateQueue",
        summary: "Creates a queue (FriendlyName, MaxSize)",
        tags: ["Queues"],
        params: pathParams({ AccountSid: sid("AC") }),
        body: formBody({ FriendlyName: { ...STRING, maxLength: 64 }, MaxSize: STRING }, ["FriendlyName"]),
        response: responses(queueSchema, 201),
      },
    },
    async (req, reply) => {
      const { AccountSid } = req.params as { AccountSid: string };
      const body = (req.body ?? {}) as QueueBody;
      const name = body.FriendlyName ?? "";
      const { queue, created } = await (await store(req)).open(
        AccountSid,
        name,
        maxSizeOf(body.MaxSize) ?? DEFAULT_QUEUE_SIZE,
      );
      if (!created) throw fail("invalidParameter", `A queue named "${name}" exists already: ${queue.sid}`);
      return reply.code(201).send(queueResource(queue));
    },
  );

  app.get(
    "/Accounts/:AccountSid/Queues/:Sid.json",
    {
      schema: {
        operationId: "FetchQueue",
        summary: "One queue",
        tags: ["Queues"],
        params: queueParams,
        response: responses(queueSchema),
      },
    },
    async (req) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      return queueResource(await found(await store(req), req, AccountSid, Sid));
    },
  );

  app.post(
    "/Accounts/:AccountSid/Queues/:Sid.json",
    {
      schema: {
        operationId: "UpdateQueue",
        summary: "Changes a queue's FriendlyName or MaxSize",
        tags: ["Queues"],
        params: queueParams,
        body: formBody({ FriendlyName: { ...STRING, maxLength: 64 }, MaxSize: STRING }),
        response: responses(queueSchema),
      },
    },
    async (req) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      const body = (req.body ?? {}) as QueueBody;
      const maxSize = maxSizeOf(body.MaxSize);
      const s = await store(req);
      await found(s, req, AccountSid, Sid);
      const q = await s.update(AccountSid, Sid, {
        ...(maxSize !== undefined && { maxSize }),
        ...(body.FriendlyName && { friendlyName: body.FriendlyName }),
      });
      if (!q) throw notFound(req);
      return queueResource(q);
    },
  );

  app.delete(
    "/Accounts/:AccountSid/Queues/:Sid.json",
    {
      schema: {
        operationId: "DeleteQueue",
        summary: "Deletes a queue",
        tags: ["Queues"],
        params: queueParams,
        response: responses(null, 204),
      },
    },
    async (req, reply) => {
      const { AccountSid, Sid } = req.params as { AccountSid: string; Sid: string };
      const s = await store(req);
      const q = await found(s, req, AccountSid, Sid);
      if (q.members.length > 0) throw fail("invalidParameter", `Queue ${Sid} has callers waiting in it`);
      if (!(await s.delete(AccountSid, Sid))) throw notFound(req);
      return reply.code(204).send();
    },
  );

  app.get(
    "/Accounts/:AccountSid/Queues/:QueueSid/Members.json",
    {
      schema: {
        operationId: "ListMember",
        summary: "A queue's members, front first",
        tags: ["Queues"],
        params: pathParams({ AccountSid: sid("AC"), QueueSid: sid("QU") }),
        querystring: listQuery(),
        response: responses(listOf("queue_members", memberSchema)),
      },
    },
    async (req) => {
      const { AccountSid, QueueSid } = req.params as { AccountSid: string; QueueSid: string };
      const q = await found(await store(req), req, AccountSid, QueueSid);
      const now = Date.now();
      return listPage(
        {
          path: listPath(req),
          key: "queue_members",
          query: req.query as PageQuery,
          idOf: (m: MemberRecord) => m.callSid,
        },
        q.members,
        (page) => page.map((m) => memberResource(q, m, q.members.indexOf(m) + 1, now)),
      );
    },
  );

  const member = (q: QueueRecord, callSid: string) =>
    callSid === "Front" ? q.members[0] : q.members.find((m) => m.callSid === callSid);

  app.get(
    "/Accounts/:AccountSid/Queues/:QueueSid/Members/:CallSid.json",
    {
      schema: {
        operationId: "FetchMember",
        summary: "One member of a queue (`Front` for the front one)",
        tags: ["Queues"],
        params: memberParams,
        response: responses(memberSchema),
      },
    },
    async (req) => {
      const { AccountSid, QueueSid, CallSid } = req.params as Record<string, string>;
      const q = await found(await store(req), req, AccountSid ?? "", QueueSid ?? "");
      const m = member(q, CallSid ?? "");
      if (!m) throw notFound(req);
      return memberResource(q, m, q.members.indexOf(m) + 1);
    },
  );

  app.post(
    "/Accounts/:AccountSid/Queues/:QueueSid/Members/:CallSid.json",
    {
      schema: {
        operationId: "UpdateMember",
        summary: "Dequeues a member: its call leaves the queue and goes on at Url",
        tags: ["Queues"],
        params: memberParams,
        body: formBody({ Url: STRING, Method: HTTP_METHOD }, ["Url"]),
        response: responses(memberSchema),
      },
    },
    async (req) => {
      const { AccountSid = "", QueueSid = "", CallSid = "" } = req.params as Record<string, string>;
      const body = (req.body ?? {}) as { Url?: string; Method?: string };
      if (!body.Url || !/^https?:\/\/[^/\s]+/i.test(body.Url)) {
        throw fail("invalidUrl", `Url must be an absolute http or https URL: ${body.Url}`);
      }
      const s = await store(req);
      const q = await found(s, req, AccountSid, QueueSid);
      const m = member(q, CallSid);
      if (!m) throw notFound(req);
      const method = body.Method?.toUpperCase() === "GET" ? "GET" : "POST";
      // `Front` is whoever is first when the change is made: one an agent has claimed is passed over.
      const bridge = await s.dequeue(AccountSid, QueueSid, CallSid === "Front" ? "front" : m.callSid, {
        by: "",
        url: body.Url,
        method,
        redirect: true,
      });
      // It left (or was dequeued) between the read and the change.
      if (!bridge) throw notFound(req);
      const taken = q.members.find((x) => x.callSid === bridge.member && x.enqueuedAt === bridge.enqueuedAt);
      const position = taken ? q.members.indexOf(taken) + 1 : 1;
      return memberResource(q, taken ?? { callSid: bridge.member, enqueuedAt: bridge.enqueuedAt }, position);
    },
  );
}
