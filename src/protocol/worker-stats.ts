// What a worker tells the api's /metrics, every few seconds on `sb.region.<r>.stats.<worker>`: its
// live calls by state, its call counters and a histogram of its webhook latencies.
import { z } from "zod";

/** Upper bounds (seconds) of the webhook latency buckets; Twilio's hard cap is 15 s. */
export const WEBHOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15];

const count = z.number().nonnegative();

export const WorkerStatsSchema = z.object({
  worker: z.string().min(1).max(128),
  region: z.string().min(1).max(64),
  at: z.number(),
  liveCalls: count,
  /** Live calls by top-level state. */
  byState: z.record(z.string(), count),
  counters: z.record(z.string(), count),
  webhook: z.object({
    /** One count per WEBHOOK_BUCKETS bound (not cumulative). */
    buckets: z.array(count).max(WEBHOOK_BUCKETS.length),
    sum: count,
    count,
  }),
});
export type WorkerStats = z.infer<typeof WorkerStatsSchema>;
