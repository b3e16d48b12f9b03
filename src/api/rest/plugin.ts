// The REST API: Twilio's 2010-04-01 API under /2010-04-01 and Routes v2 under /v2, each route
// group in its own file, behind Basic auth and Twilio's error bodies; switchboard's own trunks under
// /v1 (the operator only); and, without auth, /openapi.json (generated from the route schemas) and
// /metrics. docs/rest-api.md describes it.
import { createRequire } from "node:module";
import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context.js";
import { LoginLimiter, limitFailedLogins } from "../login-limiter.js";
import { accountRoutes } from "./accounts.js";
import { requireAccount } from "./auth-hook.js";
import { callCreateRoutes } from "./call-create.js";
import { callEventRoutes } from "./call-events.js";
import { callNotificationRoutes } from "./call-notifications.js";
import { callUpdateRoutes } from "./call-update.js";
import { callRoutes } from "./calls.js";
import { conferenceRoutes } from "./conferences.js";
import type { RestContext } from "./context.js";
import { installErrorHandling } from "./errors.js";
import { acceptFormBodies } from "./form-body.js";
import { ApiMetrics, metricsRoutes } from "./metrics.js";
import { numberRoutes } from "./numbers.js";
import { openApi } from "./openapi.js";
import { outgoingCallerIdRoutes } from "./outgoing-caller-ids.js";
import { queueRoutes } from "./queues.js";
import { recordingRoutes } from "./recordings.js";
import { RegionBuckets } from "./region-buckets.js";
import { routesV2Routes } from "./routes-v2.js";
import { transcriptionRoutes } from "./transcriptions.js";
import { trunkRoutes } from "./trunks.js";

/** The package's version, from src/ (tests) or dist/src/ (the built CLI). */
function packageVersion(): string {
  const load = createRequire(import.meta.url);
  for (const path of ["../../../package.json", "../../../../package.json"]) {
    try {
      return (load(path) as { version: string }).version;
    } catch {
      // Not at this depth: try the next.
    }
  }
  return "0.0.0";
}

type RouteGroup = (app: FastifyInstance, ctx: RestContext) => Promise<void>;

const API_2010: RouteGroup[] = [
  accountRoutes,
  callRoutes,
  callCreateRoutes,
  callUpdateRoutes,
  callEventRoutes,
  callNotificationRoutes,
  recordingRoutes,
  transcriptionRoutes,
  numberRoutes,
  outgoingCallerIdRoutes,
  conferenceRoutes,
  queueRoutes,
];

export async function restApi(
  app: FastifyInstance,
  api: ApiContext & { loginLimiter?: LoginLimiter },
): Promise<void> {
  const { loginLimiter = new LoginLimiter(), ...rest } = api;
  const ctx: RestContext = { ...rest, buckets: new RegionBuckets(api.nc) };
  const metrics = new ApiMetrics(ctx);
  await openApi(app, packageVersion());
  metrics.watch(app);
  // Response schemas document; replies are plain JSON of what the handler returns.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const twilio = (groups: RouteGroup[]) => async (scope: FastifyInstance) => {
    acceptFormBodies(scope);
    installErrorHandling(scope);
    // One limiter for both scopes: failures count across /2010-04-01 and /v2.
    limitFailedLogins(scope, loginLimiter);
    requireAccount(scope, ctx);
    for (const group of groups) await scope.register(async (child) => group(child, ctx));
  };
  await app.register(twilio(API_2010), { prefix: "/2010-04-01" });
  await app.register(twilio([routesV2Routes]), { prefix: "/v2" });
  // switchboard's own resources: the operator's configuration, behind the operator's login.
  await app.register(async (scope) => trunkRoutes(scope, ctx), { prefix: "/v1" });

  await app.register(async (scope) => metricsRoutes(scope, metrics));
}
