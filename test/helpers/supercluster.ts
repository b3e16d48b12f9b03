// A NATS supercluster on loopback, the topology of DESIGN.md §7: a `global` cluster (edges, the
// routing table, accounts) and one cluster per region, joined by gateways, every server tagged
// `region:<cluster>`. One server per cluster keeps it light. `topologyConfig` renders the cluster,
// gateway and tag part of a server's config for both this helper and the shipped deploy/nats/*.conf
// (test/regions/deploy.test.ts holds those files to it), so tests run the topology we ship.
//
//   await using sc = await startSupercluster();
//   const nc = await connect({ servers: sc.url("us1") });
import { createServer, type Server } from "node:net";
import { authorizationConfig } from "../../src/admin/nats-users.js";
import { type NatsServer, startNatsServer } from "../../src/dev/nats-server.js";
import { GLOBAL_SCOPE, regionTag } from "../../src/store/placement.js";

// The users and their rights are the product's (`switchboard nats-users` prints them): re-exported
// for the tests that log in as each role.
export {
  authorizationConfig,
  natsUsers,
  type Permissions,
  permissionsOf,
  ROLES,
  regionUser,
} from "../../src/admin/nats-users.js";

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
