// Which regions exist, read from JetStream itself (each region provisions stream SB_INSPECT_<R>
// on `sb.region.<r>.inspect.>` and bucket sb_calls_<r>), and the visualizer's own capture of each
// region's channel commands, which nothing else stores.
import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { buckets, streams, subjects } from "../bus/subjects.js";

const INSPECT_STREAM = "SB_INSPECT_";
const CALLS_KV_STREAM = `KV_${buckets.calls("")}`;
const DAY_NS = 24 * 60 * 60 * 1_000_000_000;

/** The stream in which the visualizer keeps a region's `.out` channel commands (say, play, …). */
export function channelStream(region: string): string {
  return `SB_CHANNEL_${region.toUpperCase().replaceAll("-", "_")}`;
}

/** Region names, sorted: from inspection streams' subjects, else from call buckets' names. */
export async function discoverRegions(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const found = new Set<string>();
  const inspect = /^[^.]+\.region\.([^.]+)\.inspect\.>$/;
  for await (const info of jsm.streams.list()) {
    const name = info.config.name;
    if (name.startsWith(INSPECT_STREAM)) {
      for (const subject of info.config.subjects ?? []) {
        const region = inspect.exec(subject)?.[1];
        if (region) found.add(region);
      }
    } else if (name.startsWith(CALLS_KV_STREAM)) {
      // Bucket names replace "-" by "_": only used when the region has no inspection stream.
      const suffix = name.slice(CALLS_KV_STREAM.length);
      if (![...found].some((r) => buckets.calls(r) === buckets.calls(suffix))) found.add(suffix);
    }
  }
  return [...found].sort();
}

/**
 * Creates the region's channel capture stream if it is missing. Call commands are plain
 * publishes, so capturing them costs the region worker nothing; only commands published after
 * the stream exists are kept (24 h, like inspection events).
 */
export async function ensureChannelCapture(nc: NatsConnection, region: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = channelStream(region);
  const missing = (err: Error) => {
    if (/stream not found/i.test(err.message)) return undefined;
    throw err;
  };
  if (await jsm.streams.info(name).catch(missing)) return;
  // Placed and replicated like the region's inspection stream, so the data stays in the region.
  const inspect = await jsm.streams.info(streams.inspect(region)).catch(missing);
  await jsm.streams
    .add({
      name,
      subjects: [subjects().callOut(region, "*")],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: DAY_NS,
      num_replicas: inspect?.config.num_replicas ?? 1,
      ...(inspect?.config.placement && { placement: inspect.config.placement }),
    })
    .catch((err: Error) => {
      // Another api process created it first.
      if (!/already in use|already exists/i.test(err.message)) throw err;
    });
}
