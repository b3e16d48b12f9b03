// The call-flow visualizer's server, under /viz/ on the api's port: the pages, the statechart laid out from the machine
// definition, the live call list and call views (server-sent events), and exports; behind a login
// (access.ts): an account sees its own calls, the operator every call.
import { setTimeout as delay } from "node:timers/promises";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { callMachine } from "../../../machines/call.machine.js";
import type { Logger } from "../../log.js";
import { CallDirectory } from "../directory.js";
import { layoutStatechart, type StatechartLayout } from "../layout.js";
import { discoverRegions } from "../regions.js";
import { searchCalls } from "../search.js";
import { statechartOf } from "../statechart.js";
import { toStatelyMessages } from "../stately.js";
import { StepResolver } from "../steps.js";
import { canSee, loginRoutes, requireViewer, sessionOf, viewerOf } from "./access.js";
import { loadAssets } from "./assets.js";
import { CallViews } from "./call-stream.js";
import { Sessions, type ViewerLogins } from "./sessions.js";
import { type EventStream, openEventStream } from "./sse.js";

const CALL_SID = /^CA[0-9a-f]{32}$/;
/** New regions are noticed within this long. */
const DISCOVERY_MS = 5_000;
const FIRST_DISCOVERY_MS = 3_000;

/** What the visualizer reads from: the bus (calls' inspection streams and records), a logger, and who may log in. */
export interface VisualizerContext {
  nc: NatsConnection;
  log: Logger;
  logins: ViewerLogins;
}

/** Serves the visualizer under /viz/; the composition root (src/cli) registers it on the api's server. */
export async function vizPlugin(app: FastifyInstance, ctx: VisualizerContext): Promise<void> {
  const chart = statechartOf(callMachine);
  let layout: Promise<StatechartLayout> | undefined;
  const assets = await loadAssets();
  const directory = new CallDirectory(ctx.nc, ctx.log.child({ component: "viz" }));
  const views = new CallViews(ctx.nc, directory, new StepResolver(chart));
  const streams = new Set<EventStream>();
  const sessions = new Sessions();
  const discover = async () => {
    for (const region of await discoverRegions(ctx.nc)) await directory.addRegion(region);
  };
  // Normally done in milliseconds; bounded so that a NATS user without JetStream rights (whose
  // requests time out) does not hold the api's start up. It carries on in the background.
  const first = discover().catch((err) => ctx.log.warn({ err }, "cannot list regions for the visualizer"));
  await Promise.race([first, delay(FIRST_DISCOVERY_MS, undefined, { ref: false })]);
  const discovery = setInterval(() => void discover().catch(() => {}), DISCOVERY_MS);
  discovery.unref();

  // Open event streams would hold the server open: end them before it closes.
  app.addHook("preClose", async () => {
    clearInterval(discovery);
    sessions.close();
    for (const s of streams) s.close();
  });
  app.addHook("onClose", async () => {
    await directory.close();
  });
  /** A stream ends when the client goes, the server closes, or the session that opened it ends. */
  const track = (req: FastifyRequest, s: EventStream) => {
    streams.add(s);
    s.onClose(() => streams.delete(s));
    const session = viewerOf(req).session;
    if (session) s.onClose(sessions.onEnd(session.id, () => s.close()));
    return s;
  };
  const asset = (name: string, reply: FastifyReply) => {
    const found = assets.get(name);
    if (!found) return reply.code(404).send({ error: "not found" });
    return reply.type(found.type).header("Cache-Control", "no-cache").send(found.body);
  };
  // The pages' HTML holds no data; without a session they send the browser to the login form.
  const page = (name: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (sessionOf(req, sessions)) return asset(name, reply);
    return reply.redirect(`/viz/login?next=${encodeURIComponent(req.url)}`);
  };
  const sidOf = (params: unknown, reply: FastifyReply): string | undefined => {
    const { sid } = params as { sid: string };
    if (CALL_SID.test(sid)) return sid;
    void reply.code(400).send({ error: "a CallSid is CA followed by 32 hex digits" });
    return undefined;
  };
  /** The region of a call the request's viewer may see; otherwise 404, whether or not it exists. */
  const visible = async (req: FastifyRequest, reply: FastifyReply): Promise<[string, string] | undefined> => {
    const sid = sidOf(req.params, reply);
    if (!sid) return undefined;
    const region = await views.visibleRegion(sid, viewerOf(req).viewer.accountSid);
    if (region) return [sid, region];
    void reply.code(404).send({ error: `no inspection events for ${sid}` });
    return undefined;
  };

  app.get("/viz", (_req, reply) => reply.redirect("/viz/"));
  app.get("/viz/", page("index.html"));
  app.get("/viz/calls/:sid", page("call.html"));
  app.get("/viz/login", (_req, reply) => asset("login.html", reply));
  app.get("/viz/assets/:name", async (req, reply) => asset((req.params as { name: string }).name, reply));
  loginRoutes(app, sessions, ctx.logins);

  // Every data route needs a viewer: a session, or Basic credentials.
  await app.register(async (api) => {
    requireViewer(api, sessions, ctx.logins);
    api.get("/viz/api/statechart", async () => {
      layout ??= layoutStatechart(chart);
      return layout;
    });
    api.get("/viz/api/calls", async (req) => {
      const { viewer } = viewerOf(req);
      return { regions: directory.regions, calls: directory.rows(500, (r) => canSee(viewer, r)) };
    });
    api.get("/viz/api/calls/events", async (req, reply) => {
      const { viewer } = viewerOf(req);
      const stream = track(req, openEventStream(req, reply));
      stream.send("calls", {
        regions: directory.regions,
        calls: directory.rows(500, (r) => canSee(viewer, r)),
      });
      stream.onClose(
        directory.onChange((changed) => {
          const calls = changed.filter((r) => canSee(viewer, r));
          if (calls.length) stream.send("upsert", { regions: directory.regions, calls });
        }),
      );
    });
    // Every stored call it may see, not only the newest the list holds: by CallSid, number or status.
    api.get("/viz/api/calls/search", async (req) => {
      const { viewer } = viewerOf(req);
      const q = String((req.query as { q?: unknown }).q ?? "").slice(0, 200);
      return searchCalls(ctx.nc, directory, q, viewer.accountSid);
    });
    api.get("/viz/api/calls/:sid", async (req, reply) => {
      const found = await visible(req, reply);
      if (!found) return;
      const [sid, region] = found;
      return (await views.read(region, sid)).view;
    });
    api.get("/viz/api/calls/:sid/events", async (req, reply) => {
      const found = await visible(req, reply);
      if (!found) return;
      const [sid, region] = found;
      const stream = track(req, openEventStream(req, reply));
      await views.stream(region, sid, stream).catch((err) => {
        ctx.log.warn({ err, callSid: sid }, "cannot follow the call for the visualizer");
        stream.send("failure", { message: (err as Error).message });
        stream.close();
      });
    });
    api.get("/viz/api/calls/:sid/history.json", async (req, reply) => {
      const found = await visible(req, reply);
      if (!found) return;
      const [sid, region] = found;
      const { history, view } = await views.read(region, sid);
      const { records, call, channelCaptured } = history;
      return reply
        .header("Content-Disposition", `attachment; filename="${sid}.json"`)
        .send({ callSid: sid, region, channelCaptured, call, records, view });
    });
    api.get("/viz/api/calls/:sid/stately.json", async (req, reply) => {
      const found = await visible(req, reply);
      if (!found) return;
      const [sid, region] = found;
      const { view } = await views.read(region, sid);
      return reply
        .header("Content-Disposition", `attachment; filename="${sid}.stately.json"`)
        .send(toStatelyMessages(view, callMachine));
    });
  });
}
