// A <Dial><Queue> bridge through its worker's death (SIGKILL) or a graceful hand-over (SIGTERM): the
// Dial run again on the next worker goes on with the member it took, rather than taking the next
// caller (or timing out on an empty queue) and leaving that member bridged to no one.
import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlacedCall } from "../../src/caller/place-call.js";
import { type BridgeRecord, bridgeKey } from "../../src/model/rooms.js";
import { buckets } from "../../src/protocol/subjects.js";
import type { StoredActor } from "../../src/region/host/stored-actor.js";
import type { CliProcess } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { snapshotWhere } from "../helpers/snapshots.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const MEMBER = "+15558100001";
const AGENT = "+15558100002";
/** The member hangs up this long after their call is answered, bridged all the while after the Dial. */
const MEMBER_TALKS_S = 10;

let engine: TestEngine;
let app: TwilioApp;

// `--drain 0`: a worker stopped gracefully (SIGTERM) hands its live calls over at once.
const worker = () => regionWorker(engine.nats.url, ["--drain", "0"]);

beforeAll(async () => {
  engine = await startTestEngine({ worker: false });
  app = await startTwilioApp(engine.authToken, {
    "/member": () => {
      const r = new VoiceResponse();
      r.enqueue({ action: "/left", waitUrl: "/wait" }, "support");
      return { body: r.toString() };
    },
    "/wait": () => ({ body: new VoiceResponse().pause({ length: 1 }).toString() }),
    "/left": () => ({ body: new VoiceResponse().hangup().toString() }),
    // A short timeout: a Dial that lost its member and waits on the empty queue gives up quickly.
    "/agent": () => {
      const r = new VoiceResponse();
      r.dial({ action: "/dialed", timeout: 4 }).queue({ url: "/whisper" }, "support");
      return { body: r.toString() };
    },
    // What the member hears once dequeued, before the bridge: once, not again on a resume.
    "/whisper": () => ({ body: new VoiceResponse().say("An agent").toString() }),
    "/dialed": () => ({ body: new VoiceResponse().hangup().toString() }),
  });
  await engine.addNumber({ number: MEMBER, voiceUrl: `${app.url}/member` });
  await engine.addNumber({ number: AGENT, voiceUrl: `${app.url}/agent` });
});

afterAll(async () => {
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

/** Places a real-time call; `sid` resolves with its CallSid once it is offered. */
function call(to: string, hangupAfter?: number) {
  let offered!: (sid: string) => void;
  const sid = new Promise<string>((r) => {
    offered = r;
  });
  const ended: Promise<PlacedCall> = engine.call({
    to,
    caller: { timeScale: 1, ...(hangupAfter && { hangupAfter }) },
    timeoutMs: 40_000,
    onProgress: (p) => {
      if (p.source === "offered") offered(p.callSid);
    },
  });
  ended.catch(() => {});
  return { sid, ended };
}

/** Resolves with the member's bridge record once it is in `state`. */
async function bridgeIn(member: string, state: BridgeRecord["state"]): Promise<BridgeRecord> {
  const kv = await new Kvm(engine.nc).open(buckets.conferences("us1"));
  const watch = await kv.watch({ key: bridgeKey(member) });
  try {
    for await (const e of watch) {
      if (e.operation === "PUT" && e.json<BridgeRecord>().state === state) return e.json<BridgeRecord>();
    }
  } finally {
    watch.stop();
  }
  throw new Error(`the watch of ${member}'s bridge ended`);
}

async function killAndReplace(a: CliProcess, signal: "SIGKILL" | "SIGTERM"): Promise<CliProcess> {
  const b = worker();
  await b.waitForLog("ready");
  a.child.kill(signal);
  await a.exited;
  return b;
}

describe("a <Dial><Queue> bridge when the worker running both calls stops", () => {
  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands its calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "its worker %s: the resumed Dial goes on with its member until the member hangs up",
    async (_, signal) => {
      await using a = worker();
      await a.waitForLog("ready");
      const member = call(MEMBER, MEMBER_TALKS_S);
      const memberSid = await member.sid;
      await app.waitFor((r) => r.path === "/wait" && r.params.CallSid === memberSid);
      const agent = call(AGENT);
      const agentSid = await agent.sid;
      await bridgeIn(memberSid, "bridged");
      const bridgedSeen = Date.now();
      // Both calls' snapshots have them in their verbs: what the next worker resumes.
      const inVerb = (verb: string) => (s: StoredActor) =>
        (s.context as { verb?: string } | undefined)?.verb === verb;
      await Promise.all([
        snapshotWhere(engine.nc, agentSid, inVerb("Dial")),
        snapshotWhere(engine.nc, memberSid, inVerb("Enqueue")),
      ]);
      await using _b = await killAndReplace(a, signal);

      const [m, g] = await Promise.all([member.ended, agent.ended]);
      const memberEnded = Date.now();
      expect(m.call.status).toBe("completed");
      expect(g.call.status).toBe("completed");
      // The member was bridged until they hung up: one action, from their hang-up, not from a
      // bridge ended at the hand-over (which would have been in-progress).
      const left = app.requests.filter((r) => r.path === "/left" && r.params.CallSid === memberSid);
      expect(left.map((r) => `${r.params.QueueResult} ${r.params.CallStatus}`)).toEqual([
        "bridged completed",
      ]);
      // The agent's Dial ended with that member, its duration counted from the bridge's start.
      const dialed = app.requests.filter((r) => r.path === "/dialed" && r.params.CallSid === agentSid);
      expect(dialed.map((r) => `${r.params.DialCallStatus} ${r.params.DialCallSid}`)).toEqual([
        `completed ${memberSid}`,
      ]);
      const expected = (memberEnded - bridgedSeen) / 1000;
      expect(Math.abs(Number(dialed[0]?.params.DialCallDuration) - expected)).toBeLessThanOrEqual(1.5);
      // The member's hang-up ended the bridge the agent's Dial had taken back.
      const ended = await bridgeIn(memberSid, "ended");
      expect(ended).toMatchObject({ by: agentSid, endedBy: memberSid });
      // Neither call started over: the agent's document and the member's url were requested once.
      const requested = (path: string, sid: string) =>
        app.requests.filter((r) => r.path === path && r.params.CallSid === sid).length;
      expect(requested("/agent", agentSid)).toBe(1);
      expect(requested("/whisper", memberSid)).toBe(1);
    },
  );
});
