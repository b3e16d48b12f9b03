// A region worker dies (SIGKILL) or hands its calls over (SIGTERM) while a SIP caller is leaving a
// message in a <Record>. The recording is the gateway's, so it outlives the worker: the worker that
// resumes the call runs the same <Record> again, which names the same recording (its RecordingSid,
// from the verb's place in the call), and the gateway carries that recording on. The caller hears
// one beep, the Recording holds what was said before the stop and after it, and the app hears of it
// once: one in-progress and one completed status, one action, one RecordingSid.
import { describe, expect, it } from "vitest";
import { bounded } from "../helpers/bounded.js";
import { startTestEngine } from "../helpers/engine.js";
import { messagesSeen } from "../helpers/messages-seen.js";
import { regionWorker } from "../helpers/region-worker.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { cadence, decodeUlaw, framesOf } from "./audio.js";
import { phoneRtp, sipp, startGateway, tonesDir } from "./harness.js";
import { onlyRecording } from "./recordings.js";

const NUMBER = "+15551230061";
/** The caller says one thing (600 Hz) for its first seconds, then another (400 Hz) to the end. */
const BEFORE = { hz: 600, seconds: 3 };
const AFTER_HZ = 400;
/** The <Record>'s maxLength: it ends the recording, seconds after the resume. */
const MAX_LENGTH_S = 8;
/** How long the first worker records before it is stopped (in 20 ms packets the caller is sent). */
const RECORDED_FIRST_PACKETS = 60;

describe("a <Record> of a SIP call resumed on another worker", () => {
  it.each([
    ["dies (SIGKILL)", "SIGKILL"],
    ["hands its calls over (SIGTERM)", "SIGTERM"],
  ] as const)(
    "when the worker %s, goes on recording: one beep, one Recording with what was said before and after",
    { timeout: 90_000 },
    async (_, signal) => {
      await using engine = await startTestEngine({ worker: false });
      await using gw = await startGateway(engine, "gw1");
      await using app = await startTwilioApp(engine.authToken, {
        "/voice": () => {
          const r = new VoiceResponse();
          // The <Record> is not the document's first verb: its place (its RecordingSid) is the verb's own.
          r.pause({ length: 1 });
          r.record({
            action: "/recorded",
            maxLength: MAX_LENGTH_S,
            timeout: 0,
            recordingStatusCallback: "/recording-status",
            recordingStatusCallbackEvent: ["in-progress", "completed"],
          });
          return { body: r.toString() };
        },
        "/recorded": () => ({ body: new VoiceResponse().hangup().toString() }),
        "/recording-status": () => ({ status: 204, body: "" }),
      });
      await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
      // The `record` commands sent to the gateway, and any `stop`.
      const CMD = "sb.sip.gw1.call.*.cmd";
      const records = messagesSeen(engine.nc, CMD, (m) => m.op === "record");
      const stops = messagesSeen(engine.nc, CMD, (m) => m.op === "stop");
      await using _seen = {
        [Symbol.asyncDispose]: async () => {
          records.stop();
          stops.stop();
        },
      };
      // No drain: a graceful stop hands its live calls over at once.
      await using a = regionWorker(engine.nats.url, ["--drain", "0"]);
      await a.waitForLog("ready");
      await using phone = await phoneRtp();
      const caller = sipp(gw.sipPort, "room.xml", {
        to: NUMBER,
        keys: { rtpport: phone.port },
        cwd: await tonesDir([
          [BEFORE.seconds, BEFORE.hz],
          [30, AFTER_HZ],
        ]),
        timeoutS: 60,
      });
      await bounded(records.reached(1), "the first worker's record", 20_000);
      // The first worker records a while (the beep, then the caller's first tone), on the RTP clock.
      await phone.waitForPackets(phone.packets.length + RECORDED_FIRST_PACKETS, 20_000);

      await using b = regionWorker(engine.nats.url);
      await b.waitForLog("ready");
      a.child.kill(signal);
      await a.exited;
      await bounded(records.reached(2), "the resumed worker's record", 20_000);
      const recorded = (await app.waitFor((r) => r.path === "/recorded", 40_000)).params;
      const result = await bounded(caller, "the caller's end", 40_000);
      expect(result.code, result.stdout + result.stderr).toBe(0);

      // The same recording asked for twice, and never stopped: the hand-over sent no `stop`.
      const [first, second] = records.seen().map((m) => (m.options as { key?: string }).key);
      expect(first).toMatch(/^RE[0-9a-f]{32}$/);
      expect(second).toBe(first);
      expect(stops.count()).toBe(0);
      // One beep: the resumed <Record> beeped no second time.
      const heard = decodeUlaw(phone.packets.filter((p) => p.payloadType === 0).map((p) => p.payload));
      const runs = cadence(heard);
      expect(
        runs.filter((_, i) => i % 2 === 0),
        `loud and quiet runs ${runs.join(" ")}`,
      ).toHaveLength(1);
      // What the caller said before the stop, from the recording's start, and after it.
      const pcm = await onlyRecording(engine.nc);
      expect(framesOf(pcm, BEFORE.hz)).toBeGreaterThanOrEqual(100);
      expect(framesOf(pcm, AFTER_HZ)).toBeGreaterThanOrEqual(200);
      // The app hears of one recording, once.
      expect(app.requests.filter((r) => r.path === "/recorded")).toHaveLength(1);
      expect(recorded.RecordingSid).toBe(first);
      expect(Number(recorded.RecordingDuration)).toBeGreaterThanOrEqual(MAX_LENGTH_S - 1);
      await app.waitFor((r) => r.path === "/recording-status" && r.params.RecordingStatus === "completed");
      const statuses = app.requests.filter((r) => r.path === "/recording-status");
      expect(statuses.map((r) => `${r.params.RecordingStatus} ${r.params.RecordingSid}`)).toEqual([
        `in-progress ${first}`,
        `completed ${first}`,
      ]);
    },
  );
});
