// A NATS supercluster on loopback, the topology of DESIGN.md §7: a `global` cluster (edges, the
// routing table, accounts) and one cluster per region, joined by gateways, every server tagged
// `region:<cluster>`. One server per cluster keeps it light. `topologyConfig` renders the cluster,
// gateway and tag part of a server's config for both this helper and the shipped deploy/nats/*.conf
// (test/regions/deploy.test.ts holds those files to it), so tests run the topology we ship.
//
//   await using sc = await startSupercluster();
//   const nc = await connect({ servers: sc.url("us1") });
import { createServer, type Server } from "node:net";
import { type NatsServer, startNatsServer } from "../../src/dev/nats-server.js";
import { buckets, streams } from "../../src/protocol/subjects.js";
import { ACCOUNT_STATUS_BUCKET } from "../../src/store/account-status.js";
import { callIndexBucket } from "../../src/store/call-index.js";
import { CALLER_IDS_BUCKET } from "../../src/store/caller-ids.js";
import { GLOBAL_SCOPE, regionTag, routingMirrorStream } from "../../src/store/placement.js";

export interface ClusterSpec {
  /** The cluster's name, which is also its gateway's name and its servers' `region:` tag. */
  name: string;
  /** Each server's route and gateway address as its peers dial them ("host:port"). */
  servers: { route: string; gateway: string }[];
}

/**
 * The cluster, gateway and tag section of the config of a server in `cluster`. Routes list every
 * server of the cluster, the server itself included: that is what lets a cluster of one start
 * JetStream at all (nats-server 2.9 wants a route first, DESIGN.md §8), and it does no harm in
 * bigger clusters, where a server simply ignores the route to itself.
 */
export function topologyConfig(
  topology: ClusterSpec[],
  cluster: string,
  listen: { route: string; gateway: string },
): string {
  const own = topology.find((c) => c.name === cluster);
  if (!own) throw new Error(`no cluster ${cluster} in the topology`);
  const q = JSON.stringify; // a JSON string is a valid NATS config string
  const urls = (addrs: string[]) => `[${addrs.map((a) => q(`nats://${a}`)).join(", ")}]`;
  return [
    `server_tags: [${q(regionTag(cluster))}]`,
    "cluster {",
    `  name: ${q(cluster)}`,
    `  listen: ${q(listen.route)}`,
    `  routes: ${urls(own.servers.map((s) => s.route))}`,
    "}",
    "gateway {",
    `  name: ${q(cluster)}`,
    `  listen: ${q(listen.gateway)}`,
    "  gateways: [",
    ...topology.map((c) => `    { name: ${q(c.name)}, urls: ${urls(c.servers.map((s) => s.gateway))} }`),
    "  ]",
    "}",
    "",
  ].join("\n");
}

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
    // each call's output. Of JetStream it only reads the trunks (hosts, credentials, inbound networks).
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

export interface StreamOnServer {
  name: string;
  /** The cluster that hosts the stream, as the server reports it. */
  cluster: string | undefined;
  messages: number;
}

export interface Supercluster extends AsyncDisposable {
  /** Cluster names: "global" first, then the regions. */
  readonly clusters: string[];
  /** The client URL of the cluster's server. */
  url(cluster: string): string;
  /**
   * Connect options that log in as `user` (default admin) when the supercluster has `auth`; none
   * otherwise. (nats.js ignores user info in a server URL: credentials go in `user`/`pass`.)
   */
  credentials(user?: string): { user?: string; pass?: string };
  server(cluster: string): NatsServer;
  /** The streams (buckets are streams too) stored on the cluster's server, from its /jsz endpoint. */
  streamsOn(cluster: string): Promise<StreamOnServer[]>;
  stop(): Promise<void>;
}

export interface SuperclusterOptions {
  /** Default ["us1", "ie1"]. */
  regions?: string[];
  /** How long to wait for gateways and a JetStream meta leader; default 20000. */
  readyTimeoutMs?: number;
  /** Require the users of `authorizationConfig`, each with the password `testPassword(user)`. */
  auth?: boolean;
}

export const testPassword = (user: string) => `${user}-secret`;

const LOOPBACK = "127.0.0.1";

/**
 * Starts the supercluster; started again with new ports when one picked up front was taken before its
 * server bound it (by another test's process, or by a sibling server's own client port, which the
 * kernel picks freely: seen in CI as "Error listening on router port … address already in use").
 */
export async function startSupercluster(opts: SuperclusterOptions = {}): Promise<Supercluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt === 3 || !/address already in use/.test(String(err))) throw err;
    }
  }
}

async function startOnce(opts: SuperclusterOptions): Promise<Supercluster> {
  const clusters = [GLOBAL_SCOPE, ...(opts.regions ?? ["us1", "ie1"])];
  // Peers must know route and gateway ports before anything starts, so those are picked up front;
  // the client port stays -1 and is read back from the launcher's ports file.
  const ports = await freePorts(clusters.length * 3);
  const at = (i: number) => `${LOOPBACK}:${ports[i]}`;
  const plan = clusters.map((name, i) => ({
    name,
    route: at(3 * i),
    gateway: at(3 * i + 1),
    monitor: `http://${at(3 * i + 2)}`,
  }));
  const topology: ClusterSpec[] = plan.map((p) => ({ name: p.name, servers: [p] }));
  const started = await Promise.allSettled(
    plan.map((p) =>
      startNatsServer({
        port: -1,
        serverName: `${p.name}-0`,
        extraConfig: [
          `http: ${JSON.stringify(p.monitor.slice("http://".length))}`,
          topologyConfig(topology, p.name, p),
          opts.auth ? authorizationConfig(clusters.slice(1), (u) => JSON.stringify(testPassword(u))) : "",
        ].join("\n"),
      }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const index = (cluster: string) => {
    const i = clusters.indexOf(cluster);
    if (i < 0) throw new Error(`no cluster ${cluster}; have ${clusters.join(", ")}`);
    return i;
  };
  const monitor = (cluster: string) => plan[index(cluster)]?.monitor as string;
  try {
    await waitUntilJoined(clusters, monitor, Date.now() + (opts.readyTimeoutMs ?? 20_000));
  } catch (err) {
    const logs = servers.map((s, i) => `--- ${clusters[i]}\n${s.output().slice(-4_000)}`).join("\n");
    await stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return {
    clusters,
    url: (cluster) => (servers[index(cluster)] as NatsServer).url,
    credentials: (user = "admin") => (opts.auth ? { user, pass: testPassword(user) } : {}),
    server: (cluster) => servers[index(cluster)] as NatsServer,
    streamsOn: async (cluster) => {
      const jsz = (await getJson(`${monitor(cluster)}/jsz?streams=true`)) as Jsz;
      return (jsz.account_details ?? []).flatMap((a) =>
        (a.stream_detail ?? []).map((s) => ({
          name: s.name,
          cluster: s.cluster?.name,
          messages: s.state?.messages ?? 0,
        })),
      );
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

interface Jsz {
  meta_cluster?: {
    leader?: string;
    cluster_size?: number;
    /** Only the leader lists its peers. */
    replicas?: { name: string; current?: boolean; offline?: boolean }[];
  };
  account_details?: {
    stream_detail?: { name: string; cluster?: { name?: string }; state?: { messages?: number } }[];
  }[];
}

/**
 * Waits until every server has a gateway to every other cluster and knows the meta leader, and the
 * leader sees every peer current: before that, a placed create fails with "peer offline".
 */
async function waitUntilJoined(
  clusters: string[],
  monitor: (cluster: string) => string,
  deadline: number,
): Promise<void> {
  let missing = "";
  while (Date.now() < deadline) {
    missing = "";
    let peersCurrent = false;
    for (const cluster of clusters) {
      const gw = (await getJson(`${monitor(cluster)}/gatewayz`).catch(() => ({}))) as {
        outbound_gateways?: Record<string, unknown>;
      };
      const out = Object.keys(gw.outbound_gateways ?? {});
      const absent = clusters.filter((c) => c !== cluster && !out.includes(c));
      if (absent.length > 0) missing += ` ${cluster}: no gateway to ${absent.join(",")};`;
      const jsz = (await getJson(`${monitor(cluster)}/jsz`).catch(() => ({}))) as Jsz;
      const meta = jsz.meta_cluster;
      if (!meta?.leader || meta.cluster_size !== clusters.length) missing += ` ${cluster}: no meta leader;`;
      const peers = meta?.replicas?.filter((p) => p.current && !p.offline) ?? [];
      if (peers.length === clusters.length - 1) peersCurrent = true;
    }
    if (!peersCurrent) missing += " the meta leader does not see every peer current;";
    if (!missing) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`supercluster not joined in time:${missing}`);
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/** `n` distinct free loopback ports: all held open at once so none repeats, then released. */
async function freePorts(n: number): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      held.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, LOOPBACK, resolve);
      });
    }
    return held.map((s) => {
      const address = s.address();
      if (!address || typeof address === "string") throw new Error("no port");
      return address.port;
    });
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
