// The key layout of leases and claims in `sb_actors_<R>`, beside each call's snapshot (`<CallSid>`):
// who owns which live call (region/host/leases.ts says how workers use them). Readers outside the
// region (the api, the visualizer) find a young call's owner and job here.
//   `_w.<worker>`                  the worker's heartbeat (HeartbeatSchema)
//   `_o.<worker>.<CallSid>`        the worker owns the call; the value is the call's job (encoded)
//   `_c.<from>.<CallSid>.<rev>`    the claim of a call from a worker whose lease had revision rev;
//                                  the value is the name of the one claimer that won
import { z } from "zod";
import { type CallJob, parseCallJob } from "./call-job.js";
import { decode } from "./codec.js";

export const heartbeatKey = (worker: string) => `_w.${worker}`;
/** The filter for every worker's heartbeat. */
export const HEARTBEAT_KEYS = "_w.>";
/** The worker a heartbeat key names. */
export const workerOfHeartbeatKey = (key: string) => key.slice(3);

export const ownerKey = (worker: string, callSid: string) => `_o.${worker}.${callSid}`;
/** The filter for every worker's lease on a call. */
export const leaseKeysOf = (callSid: string) => `_o.*.${callSid}`;
/** The filter for every lease a worker holds. */
export const leasesOfWorker = (worker: string) => `_o.${worker}.*`;
/** The worker a lease key of `callSid` names. */
export const workerOfLeaseKey = (key: string, callSid: string) => key.slice(3, -callSid.length - 1);
/** The call a lease key of `worker` names. */
export const callOfLeaseKey = (key: string, worker: string) => key.slice(`_o.${worker}.`.length);

export const claimKey = (from: string, callSid: string, revision: number) =>
  `_c.${from}.${callSid}.${revision}`;
/** The filter for every claim of a call from `worker` (its notices that another took a call over). */
export const claimsFrom = (worker: string) => `_c.${worker}.>`;
/** The call and the lease revision a claim key from `worker` names. */
export function parseClaimKey(key: string, worker: string): { callSid: string; revision: number } {
  const [callSid = "", revision = "0"] = key.slice(`_c.${worker}.`.length).split(".");
  return { callSid, revision: Number(revision) };
}

export const HeartbeatSchema = z.object({ at: z.number(), pid: z.number() });
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

/** The job a lease holds (a lease written by an older worker may hold none: undefined). */
export function leaseJob(value: Uint8Array): CallJob | undefined {
  return value.length > 0 ? parseCallJob(decode(value)) : undefined;
}
