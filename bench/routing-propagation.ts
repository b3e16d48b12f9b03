// How long a routing change takes to reach every edge (issue #5: p99 under 1 s; Twilio allows
// itself 5 minutes). A real supercluster on loopback (global + us1 + ie1, one nats-server each),
// two edges on their own connections: `ashburn` in the global cluster reads `sb_routing` itself,
// `dublin` in the ie1 cluster reads ie1's mirror of it. A writer on a third connection routes
// numbers back and forth with `routeNumber` (what `switchboard numbers route` runs), one change at
// a time; a change counts as arrived when the edge's routing cache returns the new region, i.e.
// when the edge's next offer would use it. Prints p50/p99/max per edge and for "every edge".
//
//   npx tsc -p tsconfig.build.json && node dist/bench/routing-propagation.js    (CHANGES=200)
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { routeNumber } from "../src/admin/numbers.js";
import { Edge } from "../src/edge/edge.js";
import { numberKey } from "../src/model/phone.js";
import { openGlobalStores } from "../src/store/global.js";
import { provisionRoutingMirror } from "../src/store/region.js";
import { startSupercluster } from "../test/helpers/supercluster.js";

const CHANGES = Number(process.env.CHANGES ?? 200);
const WARMUP = 20;
const NUMBERS = 20;
const TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const sc = await startSupercluster({ regions: ["us1", "ie1"] });
  const conns: NatsConnection[] = [];
  const connectTo = async (cluster: string) => {
    const nc = await connect({ servers: sc.url(cluster) });
    conns.push(nc);
    return nc;
  };
  const log = pino({ level: "warn" });
  const edges: Edge[] = [];
  try {
    const [writer, ashburnNc, dublinNc] = [
      await connectTo("global"),
      await connectTo("global"),
      await connectTo("ie1"),
    ];
    const global = await openGlobalStores(writer);
    await provisionRoutingMirror(dublinNc, "ie1");
    edges.push(await Edge.start({ nc: ashburnNc, edge: "ashburn", log }));
    edges.push(await Edge.start({ nc: dublinNc, edge: "dublin", log }));
    const labels = edges.map(
      (e) => `${e.routingStream === "KV_sb_routing" ? "ashburn" : "dublin"} (${e.routingStream})`,
    );

    const samples: number[][] = [...edges.map(() => []), []];
    for (let i = 0; i < WARMUP + CHANGES; i++) {
      const number = `+1555123${String(i % NUMBERS).padStart(4, "0")}`;
      const region = Math.floor(i / NUMBERS) % 2 === 0 ? "ie1" : "us1";
      const arrived = edges.map((edge) => arrival(edge, number, region));
      const start = performance.now();
      await routeNumber(global, number, region);
      const at = await Promise.all(arrived);
      if (i < WARMUP) continue;
      for (const [e, t] of at.entries()) samples[e]?.push(t - start);
      samples[edges.length]?.push(Math.max(...at) - start);
    }

    console.log(
      `routing propagation: ${CHANGES} changes (after ${WARMUP} warm-up), ms from write to edge cache`,
    );
    for (const [i, label] of [...labels, "every edge"].entries()) {
      const s = (samples[i] ?? []).sort((a, b) => a - b);
      const p = (q: number) => (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN).toFixed(2);
      console.log(`  ${label.padEnd(34)} p50 ${p(0.5)}  p99 ${p(0.99)}  max ${p(1)}`);
    }
  } finally {
    await Promise.all(edges.map((e) => e.stop()));
    await Promise.all(conns.map((c) => c.close()));
    await sc.stop();
  }
}

/** When (performance.now) the edge's cache first sends `number` to `region`; set up before the write. */
function arrival(edge: Edge, number: string, region: string): Promise<number> {
  const key = numberKey(number);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      edge.routing.onChange = undefined;
      reject(new Error(`${number} -> ${region} did not reach the edge within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    edge.routing.onChange = (k, value) => {
      if (k !== key || (value as { region?: string } | undefined)?.region !== region) return;
      const at = performance.now();
      clearTimeout(timer);
      edge.routing.onChange = undefined;
      resolve(at);
    };
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
