// Every NATS subject, stream and bucket name switchboard uses, built in one place (DESIGN.md §3).
// The prefix is configurable (default "sb"); stream and bucket names carry the region.

export const DEFAULT_PREFIX = "sb";

/** Regions and edges are short lower-case names (us1, ie1, ashburn): they go into subjects and names. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

export function subjects(prefix = DEFAULT_PREFIX) {
  return {
    edgeOffer: (edge: string) => `${prefix}.edge.${edge}.offer`,
    regionCalls: (region: string) => `${prefix}.region.${region}.calls`,
    /** Outbound calls the api places (REST `POST Calls.json`): stored in the same stream as calls. */
    regionOutbound: (region: string) => `${prefix}.region.${region}.outbound`,
    /** The region's outbox of status callbacks (stream SB_CALLBACKS_<R>). */
    regionCallbacks: (region: string) => `${prefix}.region.${region}.callbacks`,
    callIn: (region: string, callSid: string) => `${prefix}.region.${region}.call.${callSid}.in`,
    callOut: (region: string, callSid: string) => `${prefix}.region.${region}.call.${callSid}.out`,
    callControl: (region: string, callSid: string) => `${prefix}.region.${region}.call.${callSid}.control`,
    inspect: (region: string, callSid: string) => `${prefix}.region.${region}.inspect.${callSid}`,
    /** Wildcards for watchers that do not know the call's region yet. */
    anyCallOut: (callSid: string) => `${prefix}.region.*.call.${callSid}.out`,
    anyInspect: (callSid: string) => `${prefix}.region.*.inspect.${callSid}`,
    inspectAll: (region: string) => `${prefix}.region.${region}.inspect.>`,
    /** One subscription per worker for every call's live input and control, not one per call. */
    allCallIn: (region: string) => `${prefix}.region.${region}.call.*.in`,
    /** Each worker's counters, every few seconds, for the api's /metrics. */
    workerStats: (region: string, worker: string) => `${prefix}.region.${region}.stats.${worker}`,
    allWorkerStats: () => `${prefix}.region.*.stats.*`,
    allCallControl: (region: string) => `${prefix}.region.${region}.call.*.control`,
    /** A conference's changes (its state is in KV; a watcher re-reads it on each message). */
    conferenceEvents: (region: string, conferenceSid: string) =>
      `${prefix}.region.${region}.conference.${conferenceSid}.events`,
    /** A queue's changes, members and bridges alike (state in KV, re-read on each message). */
    queueEvents: (region: string, queueSid: string) => `${prefix}.region.${region}.queue.${queueSid}.events`,
    /** A SIP gateway's channel commands for one of its calls (request/reply, docs/sip.md). */
    sipCallCommand: (gateway: string, callSid: string) => `${prefix}.sip.${gateway}.call.${callSid}.cmd`,
    sipAllCommands: (gateway: string) => `${prefix}.sip.${gateway}.call.*.cmd`,
    /** Place an outbound SIP leg on this gateway (sip-legs.ts): a Dial from one of its calls. */
    sipOriginate: (gateway: string) => `${prefix}.sip.${gateway}.originate`,
    /** Place an outbound SIP leg on any gateway (queue group "gateways"): a REST outbound call. */
    sipAnyOriginate: () => `${prefix}.sip.originate`,
    /** How an outbound leg's INVITE goes (ringing, answered, failed), from its gateway. */
    callLeg: (region: string, callSid: string) => `${prefix}.region.${region}.call.${callSid}.leg`,
    /** One room member's 20 ms audio frames (room-audio.ts), from the gateway that holds its call. */
    roomAudio: (roomSid: string, callSid: string) => `${prefix}.room.${roomSid}.audio.${callSid}`,
    /** Every member's frames of a room: each gateway with members in it mixes them for its own. */
    roomAllAudio: (roomSid: string) => `${prefix}.room.${roomSid}.audio.*`,
  };
}

export type Subjects = ReturnType<typeof subjects>;

export const streams = {
  calls: (region: string) => `SB_CALLS_${region.toUpperCase().replaceAll("-", "_")}`,
  inspect: (region: string) => `SB_INSPECT_${region.toUpperCase().replaceAll("-", "_")}`,
  callbacks: (region: string) => `SB_CALLBACKS_${region.toUpperCase().replaceAll("-", "_")}`,
};

export const buckets = {
  routing: "sb_routing",
  accounts: "sb_accounts",
  trunks: "sb_trunks",
  /** Each SIP gateway's registered phones, kept across its restart (src/store/sip-registrations.ts). */
  sipRegistrations: "sb_sip_registrations",
  /** Every CallSid ever offered, with whose call it is (src/store/call-sids.ts). */
  callSids: "sb_callsids",
  numbers: (region: string) => `sb_numbers_${region.replaceAll("-", "_")}`,
  calls: (region: string) => `sb_calls_${region.replaceAll("-", "_")}`,
  actors: (region: string) => `sb_actors_${region.replaceAll("-", "_")}`,
  recordings: (region: string) => `sb_recordings_${region.replaceAll("-", "_")}`,
  notifications: (region: string) => `sb_notifications_${region.replaceAll("-", "_")}`,
  conferences: (region: string) => `sb_conferences_${region.replaceAll("-", "_")}`,
  queues: (region: string) => `sb_queues_${region.replaceAll("-", "_")}`,
};

/** The durable pull consumer all workers of a region share. */
export const WORKER_CONSUMER = "workers";

/** The durable pull consumer that sends a region's status callbacks. */
export const CALLBACK_CONSUMER = "callbacks";
