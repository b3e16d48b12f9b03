// The region's conference and queue buckets, created (placed in the region, like its other buckets)
// by every process that serves the region.
import type { NatsConnection } from "@nats-io/transport-node";
import { buckets, type Subjects } from "../protocol/subjects.js";
import { ConferenceStore } from "./conference-store.js";
import { QueueStore } from "./queue-store.js";
import { openRegionKv } from "./region.js";

const CONFERENCE_TTL_MS = 24 * 60 * 60 * 1000;

export async function openRoomStores(
  nc: NatsConnection,
  subjects: Subjects,
  region: string,
): Promise<{ conferences: ConferenceStore; queues: QueueStore }> {
  const [conferences, queues] = await Promise.all([
    // A conference lives at most a call's 4 hours; a day later its record goes, as a call's snapshot
    // does (the bucket would otherwise keep every conference ever held). A queue's bridges live there
    // too, for the same reason. Queues are kept: Twilio's are resources that last until deleted.
    openRegionKv(nc, region, buckets.conferences(region), 1, CONFERENCE_TTL_MS),
    openRegionKv(nc, region, buckets.queues(region), 1),
  ]);
  return {
    conferences: new ConferenceStore(conferences, nc, subjects, region),
    queues: new QueueStore(queues, nc, subjects, region, conferences),
  };
}
