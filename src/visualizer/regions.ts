// Which regions exist, read from JetStream itself: each region provisions stream SB_INSPECT_<R> on
// `sb.region.<r>.inspect.>` and bucket sb_calls_<r>.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { buckets } from "../protocol/subjects.js";

const INSPECT_STREAM = "SB_INSPECT_";
const CALLS_KV_STREAM = `KV_${buckets.calls("")}`;

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
