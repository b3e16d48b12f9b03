// The NATS users of a switchboard deployment and what each may do (docs/regions.md, docs/security.md):
// one user per role, rendered as the `authorization` block of every nats-server's config. The
// supercluster tests run it, deploy/nats/*.conf ship it for us1 and ie1, and `switchboard nats-users`
// prints it for any set of regions, so a deployment with other regions runs the same rules.
import { buckets, NAME_PATTERN, streams } from "../protocol/subjects.js";
import { ACCOUNT_STATUS_BUCKET } from "../store/account-status.js";
import { callIndexBucket } from "../store/call-index.js";
import { CALLER_IDS_BUCKET } from "../store/caller-ids.js";
import { GLOBAL_SCOPE, routingMirrorStream } from "../store/placement.js";

/**
 * The NATS users of a deployment, one per role (docs/regions.md, docs/security.md): `edge` (every
 * edge), `sip` (every SIP gateway), `api`, `region-<r>` (the workers of region r) and `admin`
 * (operators' commands, unrestricted). Each holds the subjects its role uses and no more: reading a
 * stream never lets one purge, delete, update or seal it (issue #16).
 */
export const ROLES = ["edge", "sip", "api", "admin"] as const;
export const regionUser = (region: string) => `region-${region}`;

/** Subject permissions: what a user may publish to and subscribe to (anything else is refused). */
export interface Permissions {
  publish: string[];
  subscribe: string[];
}

const API = "$JS.API";

/**
 * Reading a stream, as the nats.js 3.x kv client does it: STREAM.INFO (open), DIRECT.GET and
 * STREAM.MSG.GET (get), ordered push consumers (watch, keys) with their flow control. No STREAM.CREATE,
 * UPDATE, PURGE, DELETE or MSG.DELETE.
 */
function readStream(stream: string): string[] {
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.CONSUMER.CREATE.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * A stream a role owns: read it, create it (at start, if missing), run its durable consumers and ack
 * their messages. Still no update (sealing is an update), purge, delete or message delete.
 */
function ownStream(stream: string): string[] {
  return [
    ...readStream(stream),
    `${API}.STREAM.CREATE.${stream}`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    `${API}.CONSUMER.NAMES.${stream}`,
    `${API}.CONSUMER.LIST.${stream}`,
    `$JS.ACK.${stream}.>`,
  ];
}

/**
 * Reading a stream through ephemeral pull consumers as well (the visualizer's ordered consumers,
 * Events.json's filtered one): `readStream` and their `CONSUMER.MSG.NEXT`. No durable, no ack.
 */
function pullStream(stream: string): string[] {
  return [...readStream(stream), `${API}.CONSUMER.MSG.NEXT.${stream}.*`];
}

const kvStream = (bucket: string) => `KV_${bucket}`;
/** Replies, and what every JetStream client asks first. */
const BASE = ["_INBOX.>", `${API}.INFO`];

/** The permissions of `user`, or undefined for one that may do anything (admin). */
export function permissionsOf(user: string, regions: string[]): Permissions | undefined {
  if (user === "admin") return undefined;
  if (user === "api") return apiPermissions(regions);
  if (user === "edge") {
    // Reads the routing table (or a region's mirror of it) and which accounts exist, never their
    // tokens (sb_accounts); stores each call in its region's call stream, whose ack comes on an inbox.
    const reads = [
      kvStream(buckets.routing),
      kvStream(ACCOUNT_STATUS_BUCKET),
      ...[GLOBAL_SCOPE, ...regions].map(routingMirrorStream),
    ];
    // Claims each CallSid in sb_callsids: opens (creating it if missing) and reads claims, and writes
    // them through $KV (create-only and expected-revision puts); no consumer, no other API verb.
    const callSids = kvStream(buckets.callSids);
    const claims = [
      `${API}.STREAM.INFO.${callSids}`,
      `${API}.STREAM.CREATE.${callSids}`,
      `${API}.STREAM.MSG.GET.${callSids}`,
      `${API}.DIRECT.GET.${callSids}`,
      `${API}.DIRECT.GET.${callSids}.>`,
      `$KV.${buckets.callSids}.>`,
    ];
    return {
      publish: [
        ...BASE,
        ...reads.flatMap(readStream),
        ...claims,
        ...regions.map((r) => `sb.region.${r}.calls`),
      ],
      subscribe: ["_INBOX.>", "sb.edge.*.offer"],
    };
  }
  if (user === "sip") {
    // Offers calls to edges and feeds their channel input; takes channel commands for its calls and
    // each call's output. Of JetStream it reads the trunks (hosts, credentials, inbound networks) and
    // keeps its registered phones (sb_sip_registrations, created by the first gateway that needs it).
    // It places outbound legs (sb.sip.<gw>.originate, or sb.sip.originate in queue group
    // "gateways") and reports how each goes on its call's `.leg` subject, in any region.
    return {
      publish: [
        ...BASE,
        "sb.edge.*.offer",
        "sb.region.*.call.*.in",
        "sb.region.*.call.*.leg",
        "sb.room.*.audio.*",
        ...readStream(kvStream(buckets.trunks)),
        `${API}.STREAM.CREATE.${kvStream(buckets.sipRegistrations)}`,
        ...readStream(kvStream(buckets.sipRegistrations)),
        `$KV.${buckets.sipRegistrations}.>`,
      ],
      subscribe: [
        "_INBOX.>",
        "sb.sip.*.call.*.cmd",
        "sb.region.*.call.*.out",
        "sb.sip.*.originate",
        "sb.sip.originate",
        "sb.room.*.audio.*",
      ],
    };
  }
  const region = regions.find((r) => user === regionUser(r));
  if (!region) throw new Error(`no NATS user ${user}`);
  const regionKv = [
    ...[
      buckets.numbers,
      buckets.calls,
      buckets.actors,
      buckets.notifications,
      buckets.conferences,
      buckets.queues,
    ].map((b) => b(region)),
    callIndexBucket(region),
  ];
  const own = [
    ...[
      streams.calls(region),
      streams.inspect(region),
      streams.callbacks(region),
      routingMirrorStream(region),
      ...regionKv.map(kvStream),
      `OBJ_${buckets.recordings(region)}`,
    ].flatMap(ownStream),
    ...regionKv.map((b) => `$KV.${b}.>`),
    `$O.${buckets.recordings(region)}.>`,
  ];
  // Reads the routing table, the accounts (it signs webhooks with their tokens), their status and
  // their verified caller IDs (a <Dial callerId>).
  const global = [buckets.routing, buckets.accounts, ACCOUNT_STATUS_BUCKET, CALLER_IDS_BUCKET].flatMap((b) =>
    readStream(kvStream(b)),
  );
  return {
    // SIP gateways take their calls' channel commands and outbound legs (originate, on one gateway or
    // any) from the region, request/reply (docs/sip.md); the legs' events come on `sb.region.<r>.>`.
    publish: [
      ...BASE,
      `sb.region.${region}.>`,
      "sb.sip.*.call.*.cmd",
      "sb.sip.*.originate",
      "sb.sip.originate",
      // A <Dial> to (or an outbound call of) a number switchboard hosts offers an inbound call
      // through an edge, follows its `.out` and hangs it up over `.in`, in whichever region hosts it.
      "sb.edge.*.offer",
      "sb.region.*.call.*.in",
      ...own,
      ...global,
    ],
    subscribe: ["_INBOX.>", `sb.region.${region}.>`, "sb.region.*.call.*.out"],
  };
}

/**
 * The api (REST and the visualizer it serves) for every region: exactly what src/api and
 * src/visualizer/server send (docs/security.md lists it). Reads the regions' records, calls'
 * inspection events and recordings; writes numbers, queues and conferences (REST changes them), a
 * recording's metadata (a transcription deleted), routes, verified caller IDs, CallSid claims and
 * accounts' status (the start-up backfill); places outbound calls and queues conference callbacks in
 * the regions' streams; asks a live call's worker over `.control`. Never a call's `.in`, never
 * `sb_accounts` or `sb_trunks` (admin writes them), never a stream update, purge or delete.
 */
function apiPermissions(regions: string[]): Permissions {
  // Global buckets: opened with create (a fresh deployment's api may be first), read; written where
  // the api writes (routes v2 and numbers, caller IDs, claims of outbound CallSids, status backfill).
  const globalBuckets = [
    buckets.routing,
    buckets.accounts,
    ACCOUNT_STATUS_BUCKET,
    CALLER_IDS_BUCKET,
    buckets.trunks,
    buckets.callSids,
  ];
  const written = [buckets.routing, ACCOUNT_STATUS_BUCKET, CALLER_IDS_BUCKET, buckets.callSids];
  const global = [
    ...globalBuckets.flatMap((b) => [...readStream(kvStream(b)), `${API}.STREAM.CREATE.${kvStream(b)}`]),
    ...written.map((b) => `$KV.${b}.>`),
    // Which regions exist and their call indexes (/metrics, the visualizer's discovery): names and configs.
    `${API}.STREAM.NAMES`,
    `${API}.STREAM.LIST`,
  ];
  const region = (r: string) => [
    ...[
      buckets.numbers(r),
      buckets.notifications(r),
      buckets.actors(r),
      buckets.queues(r),
      buckets.conferences(r),
      callIndexBucket(r),
    ].flatMap((b) => readStream(kvStream(b))),
    // Followed by the visualizer, read by Events.json: pull consumers.
    ...[streams.inspect(r), kvStream(buckets.calls(r))].flatMap(pullStream),
    ...readStream(`OBJ_${buckets.recordings(r)}`),
    // Whether the region exists (numbers and routes go only to one that does).
    `${API}.STREAM.INFO.${streams.calls(r)}`,
    ...[buckets.numbers(r), buckets.queues(r), buckets.conferences(r)].map((b) => `$KV.${b}.>`),
    `$O.${buckets.recordings(r)}.M.>`,
    `sb.region.${r}.outbound`,
    `sb.region.${r}.callbacks`,
    `sb.region.${r}.call.*.control`,
    `sb.region.${r}.queue.*.events`,
    `sb.region.${r}.conference.*.events`,
  ];
  // Workers' counters for /metrics, subscribed to as one wildcard.
  return {
    publish: [...BASE, ...global, ...regions.flatMap(region)],
    subscribe: ["_INBOX.>", "sb.region.*.stats.*"],
  };
}

/** Every user of a deployment of `regions`. */
export function natsUsers(regions: string[]): string[] {
  return [...ROLES, ...regions.map(regionUser)];
}

/**
 * The `authorization` block of every server's config. `password(user)` is what the config says for
 * the user's password: a quoted test password, or a `$VARIABLE` nats-server reads from the environment.
 */
export function authorizationConfig(regions: string[], password: (user: string) => string): string {
  const q = JSON.stringify;
  const list = (subjects: string[]) => `[${subjects.map((x) => q(x)).join(", ")}]`;
  const users = natsUsers(regions).map((user) => {
    const perms = permissionsOf(user, regions);
    const head = `    { user: ${q(user)}, password: ${password(user)}`;
    if (!perms) return `${head} }`;
    return [
      `${head}, permissions: {`,
      `        publish: { allow: ${list(perms.publish)} }`,
      `        subscribe: { allow: ${list(perms.subscribe)} }`,
      "      } }",
    ].join("\n");
  });
  return ["authorization {", "  users: [", ...users, "  ]", "}", ""].join("\n");
}

/** The environment variable that holds a NATS user's password: SB_EDGE_PASSWORD, SB_US1_PASSWORD … */
export const passwordVar = (user: string) =>
  `SB_${user
    .replace(/^region-/, "")
    .replaceAll("-", "_")
    .toUpperCase()}_PASSWORD`;

/** Why `regions` cannot be a deployment's regions, if they cannot (a name twice, or not a region name). */
export function regionsProblem(regions: readonly string[]): string | undefined {
  if (regions.length === 0) return "no region given";
  for (const r of regions) {
    if (!NAME_PATTERN.test(r))
      return `not a region name: ${r} (lower-case letters, digits and '-', e.g. us1)`;
    if (r === GLOBAL_SCOPE) return `"${GLOBAL_SCOPE}" is the global cluster's name, not a region's`;
    // region-admin's password would be SB_ADMIN_PASSWORD, the unrestricted admin's.
    if ((ROLES as readonly string[]).includes(r))
      return `"${r}" is a role's name (its password variable would be the role's)`;
  }
  const twice = regions.find((r, i) => regions.indexOf(r) !== i);
  return twice === undefined ? undefined : `region ${twice} given twice`;
}
