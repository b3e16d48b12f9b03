// The entry of a worker's heartbeat thread (heartbeats.ts says why it has one): its own NATS
// connection to the region's actors bucket, the beat and the judgement of peers; it tells the main
// thread who died (or came back) and what to log, and stops when told.
import { parentPort, workerData } from "node:worker_threads";
import { Kvm } from "@nats-io/kv";
import { connectNats } from "../../protocol/connect.js";
import { Heartbeats } from "./heartbeats.js";
import type { FromHeartbeatThread, HeartbeatThreadData, ToHeartbeatThread } from "./liveness.js";

const data = workerData as HeartbeatThreadData;
const port = parentPort;
if (!port) throw new Error("heartbeat-thread.ts runs as a worker thread");
const post = (m: FromHeartbeatThread) => port.postMessage(m);
const progress = new Int32Array(data.progress);

const nc = await connectNats(data.url, data.name);
const kv = await new Kvm(nc).open(data.bucket);
const beats = new Heartbeats(kv, data.worker, {
  progress: () => Atomics.load(progress, 0),
  onDead: (worker) => post({ type: "dead", worker }),
  onAlive: (worker) => post({ type: "alive", worker }),
  log: { warn: (obj, msg) => post({ type: "log", obj: { ...obj, err: errText(obj.err) }, msg }) },
  pid: data.pid,
});
port.on("message", (m: ToHeartbeatThread) => {
  void (async () => {
    await beats.stop(m.handOver);
    await nc.close();
    post({ type: "stopped" });
    port.close();
  })();
});
await beats.start();
post({ type: "started" });

/** An Error does not survive postMessage's structured clone as pino would print it. */
function errText(err: unknown): string | undefined {
  return err === undefined ? undefined : String((err as Error)?.message ?? err);
}
