// What inspection costs a call actor: the same call (config, webhook, Say, Pause, Redirect, Say,
// Hangup, record; every effect an instant fake) run without an inspect callback, with build-call's
// callback (root snapshots only, state value changed?, build the event), and with that plus the
// publishes a real call makes (each state change and each webhook request/response, msgpack-
// encoded, to a real nats-server whose SB_INSPECT stream stores them).
// Run: npm run build && node dist/bench/inspection.js   (CALLS=… ROUNDS=… to change the size)
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type AnyActorRef, createActor, fromPromise, type InspectionEvent } from "xstate";
import {
  type AnnounceOutcome,
  type CallInput,
  callMachine,
  type FetchInput,
} from "../machines/call.machine.js";
import { startNatsServer } from "../src/dev/nats-server.js";
import { encode } from "../src/protocol/codec.js";
import { subjects } from "../src/protocol/subjects.js";
import { provisionRegionStreams } from "../src/store/region.js";
import type { Verb, VerbOutcome } from "../src/twiml/verb-data.js";
import { FAKE_NUMBER } from "./lib/fake-call.js";

const CALLS = Number(process.env.CALLS ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const CONCURRENCY = 64;

const NUMBER = FAKE_NUMBER;
const say = (text: string): Verb => ({ name: "Say", text, voice: "man", language: "en-US", loop: 1 });
const DOCUMENTS: Record<string, Verb[]> = {
  [NUMBER.voiceUrl]: [
    say("Hello"),
    { name: "Pause", length: 1 },
    { name: "Redirect", url: "https://app.example/next", method: "POST" },
  ],
  "https://app.example/next": [say("Bye"), { name: "Hangup" }],
};
const s = subjects();

type Variant = "none" | "callback" | "publish";

function machineFor(variant: Variant, nc: NatsConnection) {
  const publish = (callSid: string, event: object) => {
    if (variant === "publish")
      nc.publish(s.inspect("us1", callSid), encode({ ...event, callSid, at: Date.now() }));
  };
  const verb = fromPromise<VerbOutcome, { callSid: string; verb: Verb }>(async ({ input }) => {
    const v = input.verb;
    if (v.name === "Redirect") return { kind: "fetch", url: v.url, method: v.method };
    if (v.name === "Hangup") return { kind: "hangup" };
    return { kind: "next" };
  });
  return callMachine.provide({
    actors: {
      loadNumber: fromPromise(async () => NUMBER),
      announceCall: fromPromise(async (): Promise<AnnounceOutcome> => ({ kind: "ringing" })),
      fetchTwiml: fromPromise(async ({ input }: { input: FetchInput }) => {
        publish(input.facts.callSid, { type: "webhook.request", url: input.url, method: "POST", params: {} });
        const verbs = DOCUMENTS[input.url] ?? [];
        publish(input.facts.callSid, {
          type: "webhook.response",
          url: input.url,
          status: 200,
          contentType: "text/xml",
          durationMs: 1,
          body: "<Response>…</Response>",
        });
        return { documentUrl: input.url, verbs };
      }),
      answerCall: fromPromise(async () => ({ at: Date.now() })),
      runVerb: verb,
      endCall: fromPromise(async () => {}),
      // The 4-hour limit never comes in a bench; the record write never needs a retry.
      retryDelay: fromPromise(async () => {}),
    },
  });
}

async function oneCall(
  machine: ReturnType<typeof machineFor>,
  variant: Variant,
  nc: NatsConnection,
  n: number,
) {
  const callSid = `CA${n.toString(16).padStart(32, "0")}`;
  const input: CallInput = {
    facts: {
      callSid,
      to: "+15551230001",
      from: "+15557654321",
      region: "us1",
      edge: "ashburn",
      direction: "inbound",
    },
    arrivedAt: Date.now(),
  };
  let root: AnyActorRef | undefined;
  let lastValue = "";
  // The same work as build-call's onInspect, less the snapshot write it also triggers.
  const inspect = (ev: InspectionEvent) => {
    if (ev.type !== "@xstate.snapshot" || ev.actorRef !== root) return;
    const snapshot = ev.snapshot as ReturnType<typeof actor.getSnapshot>;
    const value = JSON.stringify(snapshot.value);
    if (value === lastValue) return;
    lastValue = value;
    const { context } = snapshot;
    const verb = context.verbs[context.index];
    const event = {
      type: "state",
      value: snapshot.value,
      status: context.status,
      event: ev.event.type,
      verb: snapshot.matches("executing-twiml") && verb ? { name: verb.name, index: context.index } : null,
      documentUrl: context.documentUrl,
    };
    if (variant === "publish")
      nc.publish(s.inspect("us1", callSid), encode({ ...event, callSid, at: Date.now() }));
  };
  const actor = createActor(machine, { input, ...(variant !== "none" && { inspect }) });
  root = actor;
  const done = new Promise<void>((resolve) => actor.subscribe({ complete: resolve }));
  actor.start();
  await done;
}

/** This process's CPU time per call, in µs: less disturbed than wall time by other processes. */
async function round(variant: Variant, nc: NatsConnection): Promise<number> {
  const machine = machineFor(variant, nc);
  let next = 0;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) await oneCall(machine, variant, nc, next++);
    }),
  );
  await nc.flush();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / CALLS;
}

async function main(): Promise<void> {
  await using nats = await startNatsServer({});
  const nc = await connect({ servers: nats.url });
  await provisionRegionStreams(nc, "us1");
  const variants: Variant[] = ["none", "callback", "publish"];
  const samples = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  for (const v of variants) await round(v, nc); // warm-up
  // Rounds alternate between variants so drift (GC, JIT, the server) hits each alike.
  for (let r = 0; r < ROUNDS; r++) for (const v of variants) samples.get(v)?.push(await round(v, nc));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const base = median(samples.get("none") ?? []);
  process.stdout.write(
    `CPU time of a call's actor life, ${CALLS} calls × ${ROUNDS} rounds, ${CONCURRENCY} at a time: median [each round]\n`,
  );
  const names: Record<Variant, string> = {
    none: "no inspect callback",
    callback: "build-call's inspect callback, no publish",
    publish: "callback + publish state and webhook events",
  };
  for (const v of variants) {
    const us = median(samples.get(v) ?? []);
    const overhead = v === "none" ? "" : `  +${(((us - base) / base) * 100).toFixed(0)} %`;
    const all = (samples.get(v) ?? []).map((x) => x.toFixed(0)).join(" ");
    process.stdout.write(
      `${names[v].padEnd(46)} ${us.toFixed(1).padStart(6)} µs/call${overhead.padEnd(8)} [${all}]\n`,
    );
  }
  await nc.close();
}

await main();
