// A region worker dies (SIGKILL) or hands its calls over (SIGTERM) while two SIP callers talk in a
// conference, and another worker resumes both calls: each call's <Conference> runs again and joins
// the room it never left on the gateway. The gateway takes the new membership in place of the old
// without a sound, so nobody hears the exit and enter beeps of callers who stayed, and the callers
// still hear each other without a gap (by spectrum: 440 Hz and 660 Hz tones, the beep at 1 kHz);
// the Dial's timeLimit still counts from the first join; and the conference's recording
// (record-from-start, made on the gateway) goes on through the resume: one Recording of the whole
// stay, one in-progress and one completed status, under one RecordingSid. A <Dial><Queue> bridge
// (a room of two) goes on the same way, both sides resumed.
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { bounded } from "../helpers/bounded.js";
import type { CliProcess } from "../helpers/cli.js";
import { startTestEngine } from "../helpers/engine.js";
import { messagesSeen } from "../helpers/messages-seen.js";
import { regionWorker } from "../helpers/region-worker.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { longestWithout, packetsWith, untilHeard } from "./audio.js";
import { phoneRtp, sipp, startGateway, toneDir } from "./harness.js";
import { onlyRecording } from "./recordings.js";

const NUMBER = "+15551230041";
const BEEP_HZ = 1000;
const BOUND_MS = 20_000;
/** The Dial's timeLimit: long enough that a resume comes well inside it. */
const LIMIT_S = 10;
/** The longest a bridged party may go without hearing the other (packets of 20 ms). */
const GAP_PACKETS = 10;

/** A sipp caller of `to` that sends a tone of `hz` for 25 s, its RTP heard by `phone`, until hung up. */
async function roomCaller(sipPort: number, to: string, phone: { port: number }, hz: number) {
  return sipp(sipPort, "room.xml", {
    to,
    keys: { rtpport: phone.port },
    cwd: await toneDir(25, hz),
    timeoutS: 60,
  });
}

/**
 * Stops worker `a` with `signal` (another is ready to take its calls) and resolves, with when, once
 * both calls on gw1 sent their `room` command again (`what` names that in a timeout's message).
 */
async function stopAndRejoin(
  nc: NatsConnection,
  a: CliProcess,
  signal: "SIGKILL" | "SIGTERM",
  what: string,
): Promise<number> {
  const rejoins = messagesSeen(nc, "sb.sip.gw1.call.*.cmd", (m) => m.op === "room");
  try {
    a.child.kill(signal);
    await a.exited;
    await bounded(rejoins.reached(2), what, BOUND_MS);
    return performance.now();
  } finally {
    rejoins.stop();
  }
}

describe("a conference of SIP callers resumed on another worker", () => {
  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands its calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "when the worker %s, goes on without a beep: the callers stay in the room, still hear each other, keep their timeLimit, and its recording records on",
    {
      timeout: 90_000,
    },
    async (_, signal) => {
      await using engine = await startTestEngine({ worker: false });
      await using gw = await startGateway(engine, "gw1");
      await using app = await startTwilioApp(engine.authToken, {
        // Only the first caller asks for the recording (the second would record once the first left).
        "/voice": (req) => {
          const r = new VoiceResponse();
          const first = req.params.CallSid === app.requests.find((q) => q.path === "/voice")?.params.CallSid;
          r.dial({ timeLimit: LIMIT_S }).conference(
            {
              beep: "true",
              ...(first && {
                record: "record-from-start",
                recordingStatusCallback: "/recording",
                recordingStatusCallbackEvent: ["in-progress", "completed"],
              }),
            } as never,
            "stays",
          );
          return { body: r.toString() };
        },
        "/recording": () => ({ status: 204, body: "" }),
      });
      await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
      // No drain: a graceful stop hands its live calls over at once.
      await using a = regionWorker(engine.nats.url, ["--drain", "0"]);
      await a.waitForLog("ready");
      await using first = await phoneRtp();
      await using second = await phoneRtp();
      const calls = [roomCaller(gw.sipPort, NUMBER, first, 440)];
      await first.waitForPackets(25, BOUND_MS);
      calls.push(roomCaller(gw.sipPort, NUMBER, second, 660));
      // Both in: the first caller hears the second, and heard its enter beep.
      await untilHeard(first, 660, 50, BOUND_MS);
      expect(packetsWith(first, BEEP_HZ)).toBeGreaterThanOrEqual(10);

      // The resumed worker sends each call's `room` command again.
      await using b = regionWorker(engine.nats.url);
      await b.waitForLog("ready");
      const mark = first.packets.length;
      const rejoinedAt = await stopAndRejoin(engine.nc, a, signal, "both calls joining the room again");
      // Two seconds more of the room, in which the beeps would have come.
      await first.waitForPackets(first.packets.length + 100, BOUND_MS);
      expect(packetsWith(first, BEEP_HZ, mark)).toBe(0);
      expect(packetsWith(second, BEEP_HZ, mark)).toBe(0);
      expect(packetsWith(first, 660, mark)).toBeGreaterThan(50);
      expect(packetsWith(second, 440, mark)).toBeGreaterThan(50);
      for (const r of await Promise.all(calls)) expect(r.code, r.stdout + r.stderr).toBe(0);
      // Nor a gap: each went on hearing the other through the rejoin.
      expect(longestWithout(first, 660, mark)).toBeLessThanOrEqual(GAP_PACKETS);
      expect(longestWithout(second, 440, mark)).toBeLessThanOrEqual(GAP_PACKETS);
      // The Dial's timeLimit (LIMIT_S) ended the first caller's stay counted from its join — its first
      // packet — not again from the rejoin, which came seconds later.
      const joinedAt = first.arrivals[0] ?? 0;
      const stayMs = (first.arrivals.at(-1) ?? 0) - joinedAt;
      expect(rejoinedAt - joinedAt).toBeGreaterThan(2_000);
      expect(stayMs).toBeGreaterThan(LIMIT_S * 1000 - 1_000);
      expect(stayMs).toBeLessThan(LIMIT_S * 1000 + (rejoinedAt - joinedAt) / 2);

      // The first caller records (it asked, and is the first in): its whole stay, in one Recording.
      const completed = await app.waitFor(
        (r) => r.path === "/recording" && r.params.RecordingStatus === "completed",
        BOUND_MS,
      );
      const statuses = app.requests.filter((r) => r.path === "/recording");
      expect(statuses.map((r) => r.params.RecordingStatus).sort()).toEqual(["completed", "in-progress"]);
      expect(new Set(statuses.map((r) => r.params.RecordingSid)).size).toBe(1);
      const pcm = await onlyRecording(engine.nc);
      expect(pcm.length / 8000).toBeGreaterThan(LIMIT_S - 1.5);
      expect(Number(completed.params.RecordingDuration)).toBeGreaterThanOrEqual(LIMIT_S - 1);
    },
  );
});

describe("a <Dial><Queue> bridge of SIP callers resumed on another worker", () => {
  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands its calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "when the worker %s, both sides rejoin their room of two, still hear each other, and the agent's timeLimit counts from the bridge",
    { timeout: 90_000 },
    async (_, signal) => {
      const QUEUED = "+15551230042";
      const AGENT = "+15551230043";
      await using engine = await startTestEngine({ worker: false });
      await using gw = await startGateway(engine, "gw1");
      await using app = await startTwilioApp(engine.authToken, {
        "/queued": () => {
          const r = new VoiceResponse();
          r.enqueue({ waitUrl: "/wait" }, "support");
          return { body: r.toString() };
        },
        "/wait": () => ({ body: new VoiceResponse().pause({ length: 1 }).toString() }),
        "/agent": () => {
          const r = new VoiceResponse();
          r.dial({ timeLimit: LIMIT_S }).queue("support");
          return { body: r.toString() };
        },
      });
      await engine.addNumber({ number: QUEUED, voiceUrl: `${app.url}/queued` });
      await engine.addNumber({ number: AGENT, voiceUrl: `${app.url}/agent` });
      await using a = regionWorker(engine.nats.url, ["--drain", "0"]);
      await a.waitForLog("ready");
      await using queued = await phoneRtp();
      await using agent = await phoneRtp();
      const joins = messagesSeen(engine.nc, "sb.sip.gw1.call.*.cmd", (m) => m.op === "room");
      const calls = [roomCaller(gw.sipPort, QUEUED, queued, 440)];
      await app.waitFor((r) => r.path === "/wait", BOUND_MS);
      calls.push(roomCaller(gw.sipPort, AGENT, agent, 660));
      // Bridged: each hears the other.
      await untilHeard(queued, 660, 50, BOUND_MS);
      await untilHeard(agent, 440, 50, BOUND_MS);
      const bridgedAt = performance.now();
      // Two seconds of the bridge before the worker stops, so that a timeLimit counted again from
      // the rejoin would show.
      await agent.waitForPackets(agent.packets.length + 100, BOUND_MS);

      // The resumed worker sends each side's `room` command again; the stopping one stops neither.
      const stops = messagesSeen(engine.nc, "sb.sip.gw1.call.*.cmd", (m) => m.op === "stop");
      await using b = regionWorker(engine.nats.url);
      await b.waitForLog("ready");
      const mark = { queued: queued.packets.length, agent: agent.packets.length };
      const rejoinedAt = await stopAndRejoin(
        engine.nc,
        a,
        signal,
        "both sides of the bridge joining their room again",
      );
      await agent.waitForPackets(agent.packets.length + 100, BOUND_MS);
      stops.stop();
      joins.stop();
      const firstJoins = joins
        .seen()
        .slice(0, 2)
        .map((m) => m.id);
      expect(firstJoins).toHaveLength(2);
      expect(stops.seen().filter((m) => firstJoins.includes(m.id))).toEqual([]);
      expect(packetsWith(queued, 660, mark.queued)).toBeGreaterThan(50);
      expect(packetsWith(agent, 440, mark.agent)).toBeGreaterThan(50);
      for (const r of await Promise.all(calls)) expect(r.code, r.stdout + r.stderr).toBe(0);
      // Neither stopped hearing the other for more than a few packets, resume included.
      expect(longestWithout(queued, 660, mark.queued)).toBeLessThanOrEqual(GAP_PACKETS);
      expect(longestWithout(agent, 440, mark.agent)).toBeLessThanOrEqual(GAP_PACKETS);
      // The Dial's timeLimit ended the bridge LIMIT_S after it began, not again after the rejoin.
      const endedAt = (agent.arrivals.at(-1) ?? 0) - bridgedAt;
      expect(rejoinedAt - bridgedAt).toBeGreaterThan(2_000);
      expect(endedAt).toBeGreaterThan(LIMIT_S * 1000 - 2_000);
      expect(endedAt).toBeLessThan(LIMIT_S * 1000 + (rejoinedAt - bridgedAt) / 2);
      expect(app.requests.filter((r) => r.path === "/agent")).toHaveLength(1);
    },
  );
});
