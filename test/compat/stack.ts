// The engine (real nats-server, worker, edge), the api on a free port and a Twilio-style webhook app,
// for the conference and queue tests: REST answers are checked against Twilio's OpenAPI description.
import { pino } from "pino";
import { request } from "undici";
import { expect } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import type { PlacedCall } from "../../src/caller/place-call.js";
import { RegionWorker } from "../../src/region/worker.js";
import { twilioSchemas } from "../api/helpers/oai.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { setUp, type Teardown } from "../helpers/teardown.js";
import { type Route, startTwilioApp, type TwilioApp } from "../helpers/twilio-app.js";

export interface CompatStack extends AsyncDisposable {
  engine: TestEngine;
  app: TwilioApp;
  api: Api;
  /** A REST request as the account; the response must match Twilio's schema for it. */
  rest<T = Record<string, unknown>>(
    method: string,
    path: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  /** `/2010-04-01/Accounts/<AccountSid>` */
  account: string;
  /**
   * Places a call at time-scale 0: `callSid` resolves once the edge has it (so a test can wait for
   * what it does meanwhile), `ended` with the stored call.
   */
  place(
    to: string,
    from: string,
    opts?: { hangupAfter?: number; starAfter?: number[] },
  ): { callSid: Promise<string>; ended: Promise<PlacedCall> };
}

/** `workers`: how many region workers share us1 (the engine's own, plus more), so calls of one queue run on different workers. */
export async function startCompatStack(routes: Record<string, Route>, workers = 1): Promise<CompatStack> {
  return setUp(async (t) => {
    // Every role on its shipped NATS user: a grant the api needs that deploy/nats lacks fails these tests.
    const engine = t.use(await startTestEngine({ shippedUsers: true }));
    const log = pino({ level: "silent" });
    const more = Array.from({ length: workers - 1 }, () =>
      engine
        .connectAs("region-us1")
        .then((nc) => RegionWorker.start({ nc, region: "us1", log, drainMs: 500 })),
    );
    await t.all(more, (w) => w.stop());
    const app = t.use(await startTwilioApp(engine.authToken, routes));
    const api = t.add(await startApi({ nc: await engine.connectAs("api"), port: 0, log }), (a) => a.close());
    return compatStack(engine, app, api, t);
  });
}

function compatStack(engine: TestEngine, app: TwilioApp, api: Api, t: Teardown): CompatStack {
  const schemas = twilioSchemas();
  const auth = `Basic ${Buffer.from(`${engine.accountSid}:${engine.authToken}`).toString("base64")}`;
  const rest = async <T>(method: string, path: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { authorization: auth };
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await request(`${api.url}${path}`, {
      method: method as "GET",
      headers,
      ...(form && { body: new URLSearchParams(form).toString() }),
    });
    const text = await res.body.text();
    const body = text === "" ? undefined : JSON.parse(text);
    const errors = schemas.check(method, path.split("?")[0] ?? "", res.statusCode, body);
    expect(errors, `${method} ${path} -> ${res.statusCode} ${text.slice(0, 300)}`).toEqual([]);
    return { status: res.statusCode, body: body as T };
  };
  return {
    engine,
    app,
    api,
    rest,
    account: `/2010-04-01/Accounts/${engine.accountSid}`,
    place: (to, from, opts = {}) => {
      let offered!: (sid: string) => void;
      const callSid = new Promise<string>((resolve) => {
        offered = resolve;
      });
      const ended = engine.call({
        to,
        from,
        caller: {
          timeScale: 0,
          ...(opts.hangupAfter !== undefined && { hangupAfter: opts.hangupAfter }),
          ...(opts.starAfter && { starAfter: opts.starAfter }),
        },
        timeoutMs: 30_000,
        onProgress: (p) => {
          if (p.source === "offered") offered(p.callSid);
        },
      });
      return { callSid, ended };
    },
    // The engine's disposal fails on any refusal of the shipped users, even one a route turned
    // into an empty answer.
    [Symbol.asyncDispose]: () => t.stop(),
  };
}
