// A whole switchboard on this machine for the visualizer's tests and its screenshot: a real
// nats-server, region us1, edge ashburn, the api (with /viz/), and a Twilio-style app with two
// numbers — one whose call runs Say, Pause, Redirect, Say, Hangup, and one that parks its call in
// a long Pause so the page has a live call to follow; a third number's URL answers 404, and a
// fourth's answers 500 with a stack trace, as a crashing app does.
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { type Api, startApi } from "../../src/api/server.js";
import { type PlacedCall, placeCall } from "../../src/caller/place-call.js";
import { Edge } from "../../src/edge/edge.js";
import { newSid } from "../../src/model/sid.js";
import { encode } from "../../src/protocol/codec.js";
import { offerCall } from "../../src/protocol/offer.js";
import { subjects } from "../../src/protocol/subjects.js";
import { RegionWorker } from "../../src/region/worker.js";
import { openGlobalStores } from "../../src/store/global.js";
import { vizPlugin } from "../../src/visualizer/server/plugin.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";
import { setUp, type Teardown } from "../helpers/teardown.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

export const FINISHING = "+15551230001";
export const PARKING = "+15551230002";
export const BROKEN = "+15551230003";
export const CRASHING = "+15551230004";
export const CALLER = "+15557654321";
export const CRASH_BODY =
  "TypeError: Cannot read properties of undefined (reading 'answer')\n    at survey.js:42";

export interface VizStage extends AsyncDisposable {
  nats: NatsServer;
  nc: NatsConnection;
  api: Api;
  app: TwilioApp;
  /** A call at time-scale 0 through /voice and its Redirect to /menu; resolves when it has ended. */
  placeFinishing(): Promise<PlacedCall>;
  /** A call whose voice URL answers 404: the caller hears the application error; resolves when ended. */
  placeBroken(): Promise<PlacedCall>;
  /** A call whose voice URL answers 500 with CRASH_BODY; resolves when ended. */
  placeCrashing(): Promise<PlacedCall>;
  /** A call at time-scale 1 that ends up in a 600 s Pause; resolves with its sid once offered. */
  placeParked(): Promise<string>;
  /** The caller hangs up. */
  hangUp(callSid: string): void;
}

export async function startVizStage(opts: { port?: number } = {}): Promise<VizStage> {
  return setUp(async (t) => {
    const nats = t.use(await startTestNatsServer());
    const nc = t.add(await connect({ servers: nats.url }), (c) => c.close());
    const log = pino({ level: "silent" });
    const accountSid = newSid("AC");
    const token = randomBytes(16).toString("hex");
    const app = t.use(
      await startTwilioApp(token, {
        "/voice": () => {
          const r = new VoiceResponse();
          r.say({ voice: "woman" }, "Thanks for calling switchboard.");
          r.pause({ length: 2 });
          r.gather({ numDigits: 1, action: "/menu" }).say("Press 1 to continue.");
          return { body: r.toString() };
        },
        "/menu": () => {
          const r = new VoiceResponse();
          r.say("You pressed one.");
          r.redirect({ method: "POST" }, "/bye");
          return { body: r.toString() };
        },
        "/bye": () => {
          const r = new VoiceResponse();
          r.say("Goodbye.");
          r.hangup();
          return { body: r.toString() };
        },
        "/hold": () => {
          const r = new VoiceResponse();
          r.say("Please hold.");
          r.redirect({ method: "POST" }, "/park");
          return { body: r.toString() };
        },
        "/crash": () => ({
          status: 500,
          contentType: "text/plain",
          headers: { "X-App": "survey" },
          body: CRASH_BODY,
        }),
        "/park": () => {
          const r = new VoiceResponse();
          r.pause({ length: 600 });
          return { body: r.toString() };
        },
      }),
    );
    const global = await openGlobalStores(nc);
    await addAccount(global, { sid: accountSid, token });
    for (const [number, path] of [
      [FINISHING, "/voice"],
      [PARKING, "/hold"],
      [BROKEN, "/missing"],
      [CRASHING, "/crash"],
    ] as const) {
      await addNumber(nc, global, { number, region: "us1", voiceUrl: `${app.url}${path}`, accountSid });
    }
    t.add(await RegionWorker.start({ nc, region: "us1", log, drainMs: 0 }), (w) => w.stop());
    t.add(await Edge.start({ nc, edge: "ashburn", log }), (e) => e.stop());
    const api = t.add(await startApi({ nc, port: opts.port ?? 0, log, parts: [vizPlugin] }), (a) =>
      a.close(),
    );
    return stage(nats, nc, api, app, t);
  });
}

function stage(nats: NatsServer, nc: NatsConnection, api: Api, app: TwilioApp, t: Teardown): VizStage {
  return {
    nats,
    nc,
    api,
    app,
    placeFinishing: () =>
      placeCall(nc, {
        to: FINISHING,
        from: CALLER,
        edge: "ashburn",
        caller: { digits: ["1"], timeScale: 0 },
      }),
    placeBroken: () => placeCall(nc, { to: BROKEN, from: CALLER, edge: "ashburn", caller: { timeScale: 0 } }),
    placeCrashing: () =>
      placeCall(nc, { to: CRASHING, from: CALLER, edge: "ashburn", caller: { timeScale: 0 } }),
    placeParked: async () => {
      const callSid = newSid("CA");
      await offerCall(nc, "ashburn", { to: PARKING, from: CALLER, callSid, caller: { timeScale: 1 } });
      return callSid;
    },
    hangUp: (callSid) => nc.publish(subjects().callIn("us1", callSid), encode({ kind: "hangup" })),
    [Symbol.asyncDispose]: () => t.stop(),
  };
}
