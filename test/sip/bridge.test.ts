// The bridge between an inbound SIP caller (sipp, PCMU) and an outbound leg (sipp, PCMA): the test is
// the region (it answers the caller, places the leg and bridges them over NATS); each party's RTP is
// read by a test socket, so what each heard is compared with what the other sent.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRecordReply } from "../../src/protocol/sip-commands.js";
import { alawToLinear, linearToAlaw, linearToUlaw, ulawToLinear } from "../../src/sip/rtp/g711.js";
import { parseTelephoneEvent } from "../../src/sip/rtp/telephone-event.js";
import { startTestEngine } from "../helpers/engine.js";
import { bestCorrelation, chirp, correlationAt, pcmOf } from "./audio.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";
import { command, placeLeg, sippUas, watchLeg } from "./uas.js";

const CALLER_SAYS = chirp(2, 300, 3000);
const CALLEE_SAYS = chirp(2, 3200, 400);

/** The keys in the RFC 4733 packets (payload type 101) a party received, one per event. */
function keysIn(packets: { payloadType: number; timestamp: number; payload: Uint8Array }[]): string {
  const seen = new Set<number>();
  let keys = "";
  for (const p of packets) {
    const e = p.payloadType === 101 ? parseTelephoneEvent(p.payload) : undefined;
    if (!e || seen.has(p.timestamp)) continue;
    seen.add(p.timestamp);
    keys += "0123456789*#ABCD"[e.event];
  }
  return keys;
}

/** 16-bit samples of one channel of a WAV with `channels` interleaved. */
function channel(wav: Uint8Array, channels: number, which: number): Int16Array {
  const data = new Uint8Array(wav.subarray(44));
  const all = new Int16Array(data.buffer, 0, Math.floor(data.length / 2));
  return all.filter((_, i) => i % channels === which);
}

describe("bridging a SIP caller to an outbound leg", () => {
  it.each([
    ["dual", false],
    ["mono", false],
    ["mono", true],
  ] as const)(
    "relays audio both ways (PCMU ↔ PCMA) and keys, and records the bridge (%s; bridged again: %s)",
    {
      timeout: 60_000,
    },
    async (record, again) => {
      await using engine = await startTestEngine({ worker: false });
      await engine.addNumber({ number: "+15551230003", voiceUrl: "http://127.0.0.1:9/unused" });
      await using gw = await startGateway(engine);
      const dir = await mkdtemp(join(tmpdir(), "sb-bridge-"));
      await writeFile(join(dir, "caller.ulaw"), Uint8Array.from(CALLER_SAYS, linearToUlaw));
      await writeFile(join(dir, "callee.alaw"), Uint8Array.from(CALLEE_SAYS, linearToAlaw));
      await using callerHears = await phoneRtp("127.0.0.2");
      await using calleeHears = await phoneRtp("127.0.0.3");

      // The leg first: a callee answering PCMA only.
      const uas = await sippUas("uas-bridge.xml", {
        cwd: dir,
        keys: { rtpport: calleeHears.port, codecs: "8 101" },
      });
      const { watch: leg } = await placeLeg(
        engine.nc,
        { uri: `sip:bob@${uas.address}:${uas.port}`, from: { user: "+15551230003" }, timeoutMs: 10_000 },
        "gw1",
      );
      await leg.next((e) => e.subject === "leg" && e.body.kind === "answered");

      // Then the caller, answered and bridged to it.
      const offered = new Promise<string>((resolve) => {
        gw.onCall = resolve;
      });
      const caller = sipp(gw.sipPort, "bridge-caller.xml", {
        to: "+15551230003",
        keys: { rtpport: callerHears.port },
        cwd: dir,
      });
      const callSid = await Promise.race([
        offered,
        caller.then((r) =>
          Promise.reject(new Error(`the caller ended before its call: ${r.stdout}${r.stderr}`)),
        ),
      ]);
      const callerIn = watchLeg(engine.nc, "us1", callSid);
      await command(engine.nc, "gw1", callSid, { op: "answer" });
      // Bridged again (a call resumed by another worker does that): the second bridge takes the
      // first's place, which answers at once with nothing, long before the bridge ends.
      const sent = performance.now();
      const first = again
        ? command(engine.nc, "gw1", callSid, { op: "bridge", id: "b0", legSid: leg.legSid, record: "none" })
        : undefined;
      const second = command(engine.nc, "gw1", callSid, {
        op: "bridge",
        id: "b1",
        legSid: leg.legSid,
        record,
      });
      if (first) {
        expect(await first).toEqual({});
        const firstMs = performance.now() - sent;
        await second;
        expect(firstMs).toBeLessThan((performance.now() - sent) / 4);
      }
      const reply = parseRecordReply(await second);
      // The caller hung up: the bridge is over; the region hangs up the leg.
      expect(await callerIn.next((e) => e.subject === "in" && e.body.kind === "hangup", 15_000)).toEqual({
        kind: "hangup",
      });
      expect(await command(engine.nc, "gw1", leg.legSid, { op: "hangup" })).toEqual({});
      const [callerResult, calleeResult] = await Promise.all([caller, uas.result]);
      expect(callerResult.code, callerResult.stdout + callerResult.stderr).toBe(0);
      expect(calleeResult.code, calleeResult.stdout + calleeResult.stderr).toBe(0);

      // Each heard the other, in its own codec, as sent.
      const atCallee = pcmOf(calleeHears.packets, alawToLinear, 8);
      const atCaller = pcmOf(callerHears.packets, ulawToLinear, 0);
      const toCallee = bestCorrelation(CALLER_SAYS, atCallee);
      const toCaller = bestCorrelation(CALLEE_SAYS, atCaller);
      expect(toCallee.correlation).toBeGreaterThanOrEqual(0.99);
      expect(toCaller.correlation).toBeGreaterThanOrEqual(0.99);
      // Keys crossed the bridge, and the region heard each party's own.
      expect(keysIn(calleeHears.packets)).toBe("#");
      expect(keysIn(callerHears.packets)).toBe("#");
      expect(callerIn.events.filter((e) => e.body.kind === "digits").map((e) => e.body.digits)).toEqual([
        "#",
      ]);
      expect(leg.events.filter((e) => e.body.kind === "digits").map((e) => e.body.digits)).toEqual(["#"]);

      // The recording: each party on its own channel (dual), or both mixed (mono).
      const wav = reply.chunk;
      expect(reply.size).toBe(wav.length);
      const channels = Buffer.from(wav).readUInt16LE(22);
      if (record === "dual") {
        expect(channels).toBe(2);
        const left = channel(wav, 2, 0);
        const right = channel(wav, 2, 1);
        const callerOnLeft = bestCorrelation(CALLER_SAYS, left);
        expect(callerOnLeft.correlation).toBeGreaterThanOrEqual(0.99);
        expect(bestCorrelation(CALLEE_SAYS, right).correlation).toBeGreaterThanOrEqual(0.99);
        // The other party is not on the caller's channel.
        expect(Math.abs(correlationAt(CALLER_SAYS, right, callerOnLeft.lag))).toBeLessThan(0.1);
      } else {
        expect(channels).toBe(1);
        const mix = channel(wav, 1, 0);
        // The parties speak in turn (the callee after the caller), so each is whole in the mix.
        const callerInMix = bestCorrelation(CALLER_SAYS, mix);
        expect(callerInMix.correlation).toBeGreaterThanOrEqual(0.99);
        const after = mix.subarray(callerInMix.lag + CALLER_SAYS.length);
        expect(bestCorrelation(CALLEE_SAYS, after).correlation).toBeGreaterThanOrEqual(0.99);
      }
      expect(Math.abs(reply.durationMs - (wav.length - 44) / (channels * 16))).toBeLessThanOrEqual(1);
    },
  );
});
