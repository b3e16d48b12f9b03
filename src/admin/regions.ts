// Which regions exist, for the admin commands: a region is real once its call stream (SB_CALLS_<R>)
// does, which every region worker provisions at start; the REST API decides the same way (20422).
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { fail } from "../errors/switchboard-error.js";
import { NAME_PATTERN, streams } from "../protocol/subjects.js";

/** Throws 20422 unless `region` has its call stream, naming the command that makes one. */
export async function requireRegion(nc: NatsConnection, region: string): Promise<void> {
  if (!NAME_PATTERN.test(region)) throw fail("invalidParameter", `not a region name: ${region}`);
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(streams.calls(region));
  } catch (err) {
    const e = err as { code?: number; message?: string };
    if (e.code !== 10059 && !/stream not found/i.test(String(e.message))) throw err;
    throw fail(
      "invalidParameter",
      `region ${region} has no call stream: no region worker has run there (start \`switchboard region --region ${region}\` first)`,
    );
  }
}
