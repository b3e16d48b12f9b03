// A small api for the security and fuzz tests: a real nats-server with region us1's streams and
// buckets, one account, and the api on a free port; no workers or edges (nothing here places calls).
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { pino } from "pino";
import { request } from "undici";
import { addAccount } from "../../src/admin/accounts.js";
import type { LoginLimiter } from "../../src/api/login-limiter.js";
import { type Api, startApi } from "../../src/api/server.js";
import { newSid } from "../../src/model/sid.js";
import { type GlobalStores, openGlobalStores } from "../../src/store/global.js";
import { provisionRegionStreams } from "../../src/store/region.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";
import { setUp, type Teardown } from "../helpers/teardown.js";

export interface ApiStack extends AsyncDisposable {
  nats: NatsServer;
  nc: NatsConnection;
  api: Api;
  account: { sid: string; token: string };
  /** Basic credentials for the header. */
  basic(sid: string, token: string): string;
  send(
    method: string,
    path: string,
    opts?: { headers?: Record<string, string>; body?: string | Buffer },
  ): Promise<{ status: number; headers: Record<string, unknown>; text: string }>;
}

export async function startApiStack(
  opts: {
    log?: Logger;
    loginLimiter?: LoginLimiter;
    /** Lets user `operator` log in with this token. */
    operatorToken?: string;
    /** Runs before the api starts (so its watched copy of sb_accounts already has what this adds). */
    setup?: (global: GlobalStores, nc: NatsConnection) => Promise<void>;
  } = {},
): Promise<ApiStack> {
  return setUp(async (t) => {
    const nats = t.use(await startTestNatsServer());
    const nc = t.add(await connect({ servers: nats.url }), (c) => c.close());
    await provisionRegionStreams(nc, "us1");
    const global = await openGlobalStores(nc);
    const account = { sid: newSid("AC"), token: randomBytes(16).toString("hex") };
    await addAccount(global, { sid: account.sid, token: account.token });
    await opts.setup?.(global, nc);
    const api = t.add(
      await startApi({
        nc,
        port: 0,
        log: opts.log ?? pino({ level: "silent" }),
        ...(opts.loginLimiter && { loginLimiter: opts.loginLimiter }),
        ...(opts.operatorToken && { operatorToken: opts.operatorToken }),
      }),
      (a) => a.close(),
    );
    return apiStack(nats, nc, api, account, t);
  });
}

function apiStack(
  nats: NatsServer,
  nc: NatsConnection,
  api: Api,
  account: ApiStack["account"],
  t: Teardown,
): ApiStack {
  return {
    nats,
    nc,
    api,
    account,
    basic: (sid, token) => `Basic ${Buffer.from(`${sid}:${token}`).toString("base64")}`,
    send: async (method, path, o = {}) => {
      const res = await request(`${api.url}${path}`, {
        method: method as "GET",
        headers: o.headers ?? {},
        ...(o.body !== undefined && { body: o.body }),
      });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    },
    [Symbol.asyncDispose]: () => t.stop(),
  };
}

/** Twilio's REST error body. */
export function isTwilioError(body: unknown, status: number): boolean {
  const b = body as Record<string, unknown>;
  return (
    typeof b === "object" &&
    b !== null &&
    typeof b.code === "number" &&
    typeof b.message === "string" &&
    typeof b.more_info === "string" &&
    b.status === status
  );
}
