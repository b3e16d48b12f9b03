// What the compatibility tests share: one engine and one Twilio-style app per file, a number per
// test (each with its own routes under its own path), and a call that collects what the channel
// did and every request the app received for it. Real nats-server, edge, worker and HTTP app.
import { vi } from "vitest";
import { type PlacedCall, readCall } from "../../src/caller/place-call.js";
import { newSid } from "../../src/model/sid.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import type { CallerScript, Offer } from "../../src/protocol/offer.js";
import { offerCall } from "../../src/protocol/offer.js";
import { subjects } from "../../src/protocol/subjects.js";
import type { NotificationRecord } from "../../src/store/notifications.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { setUp, type Teardown } from "../helpers/teardown.js";
import {
  type ReceivedRequest,
  type Route,
  startTwilioApp,
  type TwilioApp,
  VoiceResponse,
} from "../helpers/twilio-app.js";

export type Twiml = InstanceType<typeof VoiceResponse>;
/** A route's answer: TwiML built with twilio's VoiceResponse, or a raw answer (see `raw`). */
export type Handler = ((r: Twiml, req: ReceivedRequest) => void) | { readonly raw: Route };

/** A route that answers as given (status, Content-Type, body) rather than with built TwiML. */
export const raw = (route: Route): Handler => ({ raw: route });

/** The parameters Twilio sends with every request about an inbound call (spec §2). */
export const STANDARD = [
  "AccountSid",
  "ApiVersion",
  "CallSid",
  "CallStatus",
  "Called",
  "Caller",
  "Direction",
  "From",
  "To",
];
/** The status callback's own parameters on top of STANDARD (spec §5), for a call that ended. */
export const STATUS_CALLBACK = [
  ...STANDARD,
  "CallDuration",
  "CallbackSource",
  "Duration",
  "SequenceNumber",
  "SipResponseCode",
  "Timestamp",
];

export const keys = (params: Record<string, string>) => Object.keys(params).sort();
export const sortedKeys = (...lists: string[][]) => lists.flat().sort();
export const RFC2822 = /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

export interface CallRun {
  placed: PlacedCall;
  callSid: string;
  /** Everything the call did on its channel, in order (ringing, answer, say, …, ended). */
  events: ChannelOut[];
  said: string[];
  /** The app's requests for this call, in arrival order (status callback included once it came). */
  requests(): ReceivedRequest[];
  /** The first request to `path` (this scenario's) for this call, waiting for it. */
  of(path: string, match?: (r: ReceivedRequest) => boolean): Promise<ReceivedRequest>;
  /** The call's notifications once there are at least `count` (they are stored off the call's path). */
  notifications(count: number): Promise<NotificationRecord[]>;
}

export interface Scenario {
  number: string;
  /** The app's absolute URL for a path of this scenario. */
  url(path: string): string;
  /**
   * Places a call to the number at time-scale 0 (unless the script says otherwise); `onEvent` sees
   * each channel event as it happens (to answer it live on `.in`).
   */
  call(caller?: CallerScript, offer?: CallOffer): Promise<CallRun>;
}

export interface CallOffer extends Partial<Pick<Offer, "geo" | "from">> {
  onEvent?: (event: ChannelOut, callSid: string) => void;
}

export interface Compat extends AsyncDisposable {
  engine: TestEngine;
  app: TwilioApp;
  /**
   * A number whose voice URL is the scenario's `/voice`, and whose status callback is its `/status`
   * (answered 204). Paths are the scenario's own: `/voice` is served at `/<name>/voice`.
   */
  scenario(
    name: string,
    routes: Record<string, Handler>,
    number?: { voiceMethod?: "GET" | "POST"; fallback?: string },
  ): Promise<Scenario>;
}

export async function startCompat(firstNumber: number): Promise<Compat> {
  const routes: Record<string, Route> = {};
  return setUp(async (t) => {
    const engine = t.use(await startTestEngine());
    const app = t.use(await startTwilioApp(engine.authToken, routes));
    return compat(engine, app, routes, firstNumber, t);
  });
}

function compat(
  engine: TestEngine,
  app: TwilioApp,
  routes: Record<string, Route>,
  firstNumber: number,
  t: Teardown,
): Compat {
  let next = firstNumber;
  return {
    engine,
    app,
    async scenario(name, handlers, opts = {}) {
      const number = `+1555${String(next++).padStart(7, "0")}`;
      const url = (path: string) => `${app.url}/${name}${path}`;
      routes[`/${name}/status`] = () => ({ status: 204, body: "" });
      for (const [path, handler] of Object.entries(handlers)) {
        routes[`/${name}${path}`] = (req) => {
          if ("raw" in handler) return handler.raw(req);
          const r = new VoiceResponse();
          handler(r, req);
          return { body: r.toString() };
        };
      }
      await engine.addNumber({
        number,
        voiceUrl: url("/voice"),
        ...(opts.voiceMethod && { voiceMethod: opts.voiceMethod }),
        ...(opts.fallback && { fallbackUrl: url(opts.fallback) }),
        statusCallback: url("/status"),
      });
      return {
        number,
        url,
        call: (caller = {}, offer = {}) => placeCallWithOffer(engine, app, name, number, caller, offer),
      };
    },
    [Symbol.asyncDispose]: () => t.stop(),
  };
}

async function placeCallWithOffer(
  engine: TestEngine,
  app: TwilioApp,
  name: string,
  to: string,
  caller: CallerScript,
  offer: CallOffer,
): Promise<CallRun> {
  const events: ChannelOut[] = [];
  const placed = await offerAtEdge(engine, to, caller, offer, events);
  const { callSid } = placed;
  const mine = (r: ReceivedRequest) => r.params.CallSid === callSid;
  return {
    placed,
    callSid,
    events,
    said: events.flatMap((e) => (e.kind === "say" ? [e.text] : [])),
    requests: () => app.requests.filter(mine),
    of: (path, match = () => true) =>
      app.waitFor((r) => r.path === `/${name}${path}` && mine(r) && match(r), 5_000),
    notifications: async (count) => {
      let found: NotificationRecord[] = [];
      await vi.waitFor(
        async () => {
          found = await engine.notifications(callSid);
          if (found.length < count) throw new Error(`${found.length} of ${count} notifications`);
        },
        { timeout: 5_000, interval: 20 },
      );
      return found;
    },
  };
}

/**
 * Offers the call at the edge with a CallSid chosen here, listening on `.out` before offering, so
 * `onEvent` always knows the CallSid (engine.call() learns it only from the edge's reply, which can
 * be handled after the call's first events) and the offer can carry geo.
 */
async function offerAtEdge(
  engine: TestEngine,
  to: string,
  caller: CallerScript,
  offer: CallOffer,
  events: ChannelOut[],
): Promise<PlacedCall> {
  const callSid = newSid("CA");
  let ended!: (region: string) => void;
  const end = new Promise<string>((resolve) => {
    ended = resolve;
  });
  const sub = engine.nc.subscribe(subjects().anyCallOut(callSid), {
    callback: (err, msg) => {
      if (err) return;
      const event = decode(msg.data) as ChannelOut;
      events.push(event);
      offer.onEvent?.(event, callSid);
      if (event.kind === "ended") ended(event.region);
    },
  });
  try {
    await engine.nc.flush();
    await offerCall(engine.nc, "ashburn", {
      to,
      from: offer.from ?? "+15557654321",
      callSid,
      ...(offer.geo && { geo: offer.geo }),
      caller: { timeScale: 0, ...caller },
    });
    let timer: NodeJS.Timeout | undefined;
    const region = await Promise.race([
      end,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`call ${callSid} did not end in 20 s`)), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    return { callSid, region, call: await readCall(engine.nc, region, callSid) };
  } finally {
    sub.unsubscribe();
  }
}
