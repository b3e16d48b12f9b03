// A whole switchboard on this machine for the visualizer's tests and its screenshot: a real
// nats-server, region us1, edge ashburn, the api (with /viz/), and a Twilio-style app with two
// numbers — one whose call runs Say, Pause, Redirect, Say, Hangup, and one that parks its call in
// a long Pause so the page has a live call to follow; a third number's URL answers 404, and a
// fourth's answers 500 with a stack trace, as a crashing app does. A second account owns a fifth
// number (its calls Say and hang up), and an operator token is set, so the visualizer's logins can
// be tried: each account sees its own calls, the operator all.
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { addAccount } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import type { LoginLimiter } from "../../src/api/login-limiter.js";
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
import { type ShippedNatsServer, startShippedNatsServer } from "../helpers/shipped-users.js";
import { setUp, type Teardown } from "../helpers/teardown.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

export const FINISHING = "+15551230001";
export const PARKING = "+15551230002";
export const BROKEN = "+15551230003";
export const OTHERS = "+15551230004";
export const CRASHING = "+15551230005";
export const CALLER = "+15557654321";
export const CRASH_BODY =
  "TypeError: Cannot read properties of undefined (reading 'answer')\n    at survey.js:42";
export const OPERATOR_TOKEN = randomBytes(16).toString("hex");

export interface Credentials {
  sid: string;
  token: string;
}

export interface VizStage extends AsyncDisposable {
  nats: ShippedNatsServer;
  nc: NatsConnection;
  api: Api;
  app: TwilioApp;
  /** The account that owns the first three numbers. */
  account: Credentials;
  /** Another account, with the number OTHERS. */
  other: Credentials;
  /** A call at time-scale 0 through /voice and its Redirect to /menu; resolves when it has ended. */
  placeFinishing(): Promise<PlacedCall>;
  /** A call whose voice URL answers 404: the caller hears the application error; resolves when ended. */
  placeBroken(): Promise<PlacedCall>;
  /** A call whose voice URL answers 500 with CRASH_BODY; resolves when ended. */
  placeCrashing(): Promise<PlacedCall>;
  /** A call at time-scale 1 that ends up in a 600 s Pause; resolves with its sid once offered. */
  placeParked(): Promise<string>;
  /** A call to the other account's number (Say, Hangup); resolves when it has ended. */
  placeOthers(): Promise<PlacedCall>;
  /** The caller hangs up. */
  hangUp(callSid: string): void;
}

export async function startVizStage(
  opts: { port?: number; loginLimiter?: LoginLimiter } = {},
): Promise<VizStage> {
  return setUp(async (t) => {
    // Every role on its shipped NATS user; the visualizer runs inside the api, on the api's.
    const nats = t.use(await startShippedNatsServer());
    const as = async (user: string) => t.add(await nats.connectAs(user), (c) => c.close());
    const nc = await as("admin");
    const log = pino({ level: "silent" });
    const account = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    const other = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    const { token } = account;
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
    // The other account's app checks signatures with that account's token.
    const othersApp = t.use(
      await startTwilioApp(other.token, {
        "/bye": () => {
          const r = new VoiceResponse();
          r.say("Another account's call.");
          r.hangup();
          return { body: r.toString() };
        },
      }),
    );
    const global = await openGlobalStores(nc);
    await addAccount(global, account);
    await addAccount(global, other);
    for (const [number, path, accountSid] of [
      [FINISHING, "/voice", account.sid],
      [PARKING, "/hold", account.sid],
      [BROKEN, "/missing", account.sid],
      [OTHERS, "/bye", other.sid],
      [CRASHING, "/crash", account.sid],
    ] as const) {
      const url = accountSid === other.sid ? othersApp.url : app.url;
      await addNumber(nc, global, { number, region: "us1", voiceUrl: `${url}${path}`, accountSid });
    }
    t.add(await RegionWorker.start({ nc: await as("region-us1"), region: "us1", log, drainMs: 0 }), (w) =>
      w.stop(),
    );
    t.add(await Edge.start({ nc: await as("edge"), edge: "ashburn", log }), (e) => e.stop());
    const api = t.add(
      await startApi({
        nc: await as("api"),
        port: opts.port ?? 0,
        log,
        operatorToken: OPERATOR_TOKEN,
        parts: [vizPlugin],
        ...(opts.loginLimiter && { loginLimiter: opts.loginLimiter }),
      }),
      (a) => a.close(),
    );
    return stage({ nats, nc, api, app, account, other }, t);
  });
}

type Parts = Pick<VizStage, "nats" | "nc" | "api" | "app" | "account" | "other">;

function stage(parts: Parts, t: Teardown): VizStage {
  const { nc } = parts;
  return {
    ...parts,
    placeFinishing: () =>
      placeCall(nc, {
        to: FINISHING,
        from: CALLER,
        edge: "ashburn",
        caller: { digits: ["1"], timeScale: 0 },
      }),
    placeOthers: () => placeCall(nc, { to: OTHERS, from: CALLER, edge: "ashburn", caller: { timeScale: 0 } }),
    placeBroken: () => placeCall(nc, { to: BROKEN, from: CALLER, edge: "ashburn", caller: { timeScale: 0 } }),
    placeCrashing: () =>
      placeCall(nc, { to: CRASHING, from: CALLER, edge: "ashburn", caller: { timeScale: 0 } }),
    placeParked: async () => {
      const callSid = newSid("CA");
      await offerCall(nc, "ashburn", { to: PARKING, from: CALLER, callSid, caller: { timeScale: 1 } });
      return callSid;
    },
    hangUp: (callSid) => nc.publish(subjects().callIn("us1", callSid), encode({ kind: "hangup" })),
    [Symbol.asyncDispose]: async () => {
      // Any refusal of the shipped users fails the file, even one the page turned into "no calls".
      const refused = parts.nats.violations();
      await t.stop();
      if (refused.length > 0) throw new Error(`the shipped NATS users refused:\n${refused.join("\n")}`);
    },
  };
}
