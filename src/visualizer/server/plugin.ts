// The call-flow visualizer's server, under /viz/ on the api's port: the pages, the statechart laid out from the machine
// definition, the live call list and call views (server-sent events), and exports.
import { setTimeout as delay } from "node:timers/promises";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyInstance, FastifyReply } from "fastify";
import { callMachine } from "../../../machines/call.machine.js";
import type { Logger } from "../../log.js";
import { CallDirectory } from "../directory.js";
import { layoutStatechart, type StatechartLayout } from "../layout.js";
import { discoverRegions } from "../regions.js";
import { searchCalls } from "../search.js";
import { statechartOf } from "../statechart.js";
import { toStatelyMessages } from "../stately.js";
import { StepResolver } from "../steps.js";
import { loadAssets } from "./assets.js";
import { CallViews } from "./call-stream.js";
import { type EventStream, openEventStream } from "./sse.js";

const CALL_SID = /^CA[0-9a-f]{32}$/;
/** New regions are noticed within this long. */
const DISCOVERY_MS = 5_000;
const FIRST_DISCOVERY_MS = 3_000;

/** What the visualizer reads from: the bus (calls' inspection streams and records) and a logger. */
export interface VisualizerContext {
  nc: NatsConnection;
  log: Logger;
}

/** Serves the visualizer under /viz/; the composition root (src/cli) registers it on the api's server. */
export async function vizPlugin(app: FastifyInstance, ctx: VisualizerContext): Promise<void> {
  const chart = statechartOf(callMachine);
  let layout: Promise<StatechartLayout> | undefined;
  const assets = await loadAssets();
  const directory = new CallDirectory(ctx.nc, ctx.log.child({ component: "viz" }));
  const views = new CallViews(ctx.nc, directory, new StepResolver(chart));
  const streams = new Set<EventStream>();
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
    for (const s of streams) s.close();
  });
  app.addHook("onClose", async () => {
    await directory.close();
  });
  const track = (s: EventStream) => {
    streams.add(s);
    s.onClose(() => streams.delete(s));
    return s;
  };
  const page = (name: string) => async (_req: unknown, reply: FastifyReply) => {
    const asset = assets.get(name);
    return reply
      .type(asset?.type ?? "text/plain")
      .header("Cache-Control", "no-cache")
      .send(asset?.body);
  };
  const sidOf = (params: unknown, reply: FastifyReply): string | undefined => {
    const { sid } = params as { sid: string };
    if (CALL_SID.test(sid)) return sid;
    void reply.code(400).send({ error: "a CallSid is CA followed by 32 hex digits" });
    return undefined;
  };

  app.get("/viz", (_req, reply) => reply.redirect("/viz/"));
  app.get("/viz/", page("index.html"));
  app.get("/viz/calls/:sid", page("call.html"));
  app.get("/viz/assets/:name", async (req, reply) => {
    const asset = assets.get((req.params as { name: string }).name);
    if (!asset) return reply.code(404).send({ error: "not found" });
    return reply.type(asset.type).header("Cache-Control", "no-cache").send(asset.body);
  });

  app.get("/viz/api/statechart", async () => {
    layout ??= layoutStatechart(chart);
    return layout;
  });
  app.get("/viz/api/calls", async () => ({ regions: directory.regions, calls: directory.rows() }));
  app.get("/viz/api/calls/events", async (req, reply) => {
    const stream = track(openEventStream(req, reply));
    stream.send("calls", { regions: directory.regions, calls: directory.rows() });
    stream.onClose(
      directory.onChange((calls) => stream.send("upsert", { regions: directory.regions, calls })),
    );
  });
  // Every stored call, not only the newest the list holds: by CallSid, number or status.
  app.get("/viz/api/calls/search", async (req) =>
    searchCalls(ctx.nc, directory, String((req.query as { q?: unknown }).q ?? "").slice(0, 200)),
  );
  app.get("/viz/api/calls/:sid", async (req, reply) => {
    const sid = sidOf(req.params, reply);
    if (!sid) return;
    const found = await views.read(sid);
    return found ? found.view : reply.code(404).send({ error: `no inspection events for ${sid}` });
  });
  app.get("/viz/api/calls/:sid/events", async (req, reply) => {
    const sid = sidOf(req.params, reply);
    if (!sid) return;
    const stream = track(openEventStream(req, reply));
    await views.stream(sid, stream).catch((err) => {
      ctx.log.warn({ err, callSid: sid }, "cannot follow the call for the visualizer");
      stream.send("failure", { message: (err as Error).message });
      stream.close();
    });
  });
  app.get("/viz/api/calls/:sid/history.json", async (req, reply) => {
    const sid = sidOf(req.params, reply);
    if (!sid) return;
    const found = await views.read(sid);
    if (!found) return reply.code(404).send({ error: `no inspection events for ${sid}` });
    const { records, call, region, channelCaptured } = found.history;
    return reply
      .header("Content-Disposition", `attachment; filename="${sid}.json"`)
      .send({ callSid: sid, region, channelCaptured, call, records, view: found.view });
  });
  app.get("/viz/api/calls/:sid/stately.json", async (req, reply) => {
    const sid = sidOf(req.params, reply);
    if (!sid) return;
    const found = await views.read(sid);
    if (!found) return reply.code(404).send({ error: `no inspection events for ${sid}` });
    return reply
      .header("Content-Disposition", `attachment; filename="${sid}.stately.json"`)
      .send(toStatelyMessages(found.view, callMachine));
  });
}
