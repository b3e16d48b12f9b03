// A whole engine in the test process for the REST tests: a real nats-server with the shipped
// deploy/nats users, regions us1 and ie1 (one worker each), the ashburn edge, the api on a free port,
// each under its own user (a grant the api needs that the shipped config lacks fails these tests),
// two accounts and a webhook app that validates signatures with the official `twilio` package. `rest()` checks every response it gets
// against Twilio's OpenAPI description (oai.ts) before handing it back.
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { request } from "undici";
import { expect } from "vitest";
import { addAccount } from "../../../src/admin/accounts.js";
import { addNumber } from "../../../src/admin/numbers.js";
import type { OutboundOptions } from "../../../src/api/context.js";
import { type Api, startApi } from "../../../src/api/server.js";
import { type PlacedCall, placeCall } from "../../../src/caller/place-call.js";
import { Edge } from "../../../src/edge/edge.js";
import { newSid } from "../../../src/model/sid.js";
import { RegionWorker } from "../../../src/region/worker.js";
import { type GlobalStores, openGlobalStores } from "../../../src/store/global.js";
import { type ShippedNatsServer, startShippedNatsServer } from "../../helpers/shipped-users.js";
import { regionUser } from "../../helpers/supercluster.js";
import { setUp, type Teardown } from "../../helpers/teardown.js";
import { type Route, startTwilioApp, type TwilioApp, VoiceResponse } from "../../helpers/twilio-app.js";
import { twilioSchemas } from "./oai.js";

export interface Credentials {
  sid: string;
  token: string;
}

export interface RestResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  raw: Buffer;
}

export interface RestOptions {
  /** Credentials; default the main account; null sends none. */
  auth?: Credentials | null;
  /** The Host header (region from Host); default the api's own. */
  host?: string;
  /** More request headers. */
  headers?: Record<string, string>;
  form?: Record<string, string>;
}

export interface Stack extends AsyncDisposable {
  nats: ShippedNatsServer;
  /** The operators' user (admin): the tests' own setup and checks. */
  nc: NatsConnection;
  global: GlobalStores;
  api: Api;
  app: TwilioApp;
  account: Credentials;
  other: Credentials;
  /** A request to the api; its response is checked against Twilio's schemas. */
  rest<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts?: RestOptions,
  ): Promise<RestResponse<T>>;
  /** Adds a number for an account in a region, answered by the app's `path`. */
  number(number: string, opts?: { region?: string; path?: string; account?: Credentials }): Promise<string>;
  /** A call at time-scale 0 to `to`, followed to its end. */
  call(to: string, from?: string): Promise<PlacedCall>;
  /**
   * Permission violations the server may log from now on (a Host naming a region the deployment does
   * not have); any other fails the stack's disposal, so a refused grant cannot pass unseen.
   */
  allowRefusals(subject: RegExp): void;
}

/**
 * The app's TwiML: /voice says a line; /long answers, then pauses 10 min; /next says one line;
 * /crash fails as a real app's bug does, with a 500 and a stack trace as its body.
 */
export const APP_ROUTES: Record<string, Route> = {
  "/voice": () => ({ body: new VoiceResponse().say("Hello from the REST tests").toString() }),
  "/long": () => {
    const r = new VoiceResponse();
    r.say("Hold on");
    r.pause({ length: 600 });
    return { body: r.toString() };
  },
  "/next": () => ({ body: new VoiceResponse().say("Redirected").toString() }),
  "/crash": () => ({
    status: 500,
    contentType: "text/plain",
    headers: { "X-App": "survey" },
    body: CRASH_BODY,
  }),
};

export const CRASH_BODY =
  "TypeError: Cannot read properties of undefined (reading 'answer')\n    at survey.js:42";

export interface StackOptions {
  /** How the api places outbound calls (its simulated network's script). */
  outbound?: Partial<OutboundOptions>;
  /** More routes of the webhook app, beside APP_ROUTES. */
  routes?: Record<string, Route>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  return setUp(async (t) => {
    const nats = t.use(await startShippedNatsServer());
    const as = async (user: string) => t.add(await nats.connectAs(user), (c) => c.close());
    const nc = await as("admin");
    const log = pino({ level: "silent" });
    const global = await openGlobalStores(nc);
    const account = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    const other = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    await addAccount(global, { sid: account.sid, token: account.token });
    await addAccount(global, { sid: other.sid, token: other.token });
    const app = t.use(await startTwilioApp(account.token, { ...APP_ROUTES, ...opts.routes }));
    await t.all(
      ["us1", "ie1"].map(async (region) =>
        RegionWorker.start({ nc: await as(regionUser(region)), region, log, drainMs: 1_000 }),
      ),
      (w) => w.stop(),
    );
    t.add(await Edge.start({ nc: await as("edge"), edge: "ashburn", log }), (e) => e.stop());
    const outbound = opts.outbound ? { outbound: opts.outbound } : {};
    const api = t.add(await startApi({ nc: await as("api"), port: 0, log, ...outbound }), (a) => a.close());
    return stack({ nats, nc, global, app, api, account, other }, t);
  });
}

function stack(
  parts: Pick<Stack, "nats" | "nc" | "global" | "app" | "api" | "account" | "other">,
  t: Teardown,
): Stack {
  const { nc, global, app, api, account, nats } = parts;
  const allowed: RegExp[] = [];
  const schemas = twilioSchemas();

  const rest = async <T>(method: string, path: string, opts: RestOptions = {}): Promise<RestResponse<T>> => {
    const auth = opts.auth === undefined ? account : opts.auth;
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.sid}:${auth.token}`).toString("base64")}`;
    if (opts.host) headers.host = opts.host;
    Object.assign(headers, opts.headers);
    let body: string | undefined;
    if (opts.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(opts.form).toString();
    }
    const res = await request(`${api.url}${path}`, { method: method as "GET", headers, body });
    const raw = Buffer.from(await res.body.arrayBuffer());
    const type = String(res.headers["content-type"] ?? "");
    const parsed = type.startsWith("application/json")
      ? JSON.parse(raw.toString("utf8"))
      : raw.toString("utf8");
    const errors = schemas.check(method, path.split("?")[0] ?? "", res.statusCode, parsed);
    expect(errors, `${method} ${path} -> ${res.statusCode} ${raw.toString("utf8").slice(0, 300)}`).toEqual(
      errors === null ? null : [],
    );
    return { status: res.statusCode, headers: res.headers, body: parsed as T, raw };
  };

  return {
    ...parts,
    rest,
    number: async (number, opts = {}) => {
      const { config } = await addNumber(nc, global, {
        number,
        region: opts.region ?? "us1",
        voiceUrl: `${app.url}${opts.path ?? "/voice"}`,
        accountSid: (opts.account ?? account).sid,
      });
      return config.sid;
    },
    call: (to, from = "+15557654321") =>
      placeCall(nc, { to, from, edge: "ashburn", caller: { timeScale: 0 }, timeoutMs: 10_000 }),
    allowRefusals: (subject) => void allowed.push(subject),
    [Symbol.asyncDispose]: async () => {
      const refused = nats.violations().filter((l) => !allowed.some((a) => a.test(l)));
      await t.stop();
      if (refused.length > 0) throw new Error(`the shipped NATS users refused:\n${refused.join("\n")}`);
    },
  };
}
