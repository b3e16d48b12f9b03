// `leg-state`: what a gateway tells a region (one that resumed a call) of an outbound leg it placed —
// its ringing, its final event and when the leg answered and ended — also after the leg is over.
// The test stands in for the region; the gateway and the callee (sipp) are real.
import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { newSid } from "../../src/model/sid.js";
import { type LegState, LegStateSchema } from "../../src/protocol/sip-legs.js";
import { LegStates } from "../../src/sip/leg-states.js";
import { startTestEngine } from "../helpers/engine.js";
import { startGateway } from "./harness.js";
import { answerCue, command, placeLeg, sippUas } from "./uas.js";

describe("leg-state on a gateway", () => {
  it("tells how a leg went: ringing, then answered and hung up by the callee, the same when asked again", {
    timeout: 30_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine);
    const cue = await answerCue();
    const uas = await sippUas("uas-answer-on-cue.xml", { keys: { cue: cue.port, hangup: "yes" } });
    const { watch } = await placeLeg(
      engine.nc,
      {
        uri: "sip:+15559872002@127.0.0.3",
        from: { user: "+15551252002" },
        nextHop: { host: uas.address, port: uas.port, transport: "udp" },
        timeoutMs: 20_000,
      },
      "gw1",
    );
    const state = async () =>
      LegStateSchema.parse(await command(engine.nc, "gw1", watch.legSid, { op: "leg-state" }));
    await watch.next((e) => e.subject === "leg" && e.body.kind === "ringing");
    expect(await state()).toEqual({ rang: true });
    await cue.answer(uas);
    const answered = await watch.next((e) => e.subject === "leg" && e.body.kind === "answered");
    await watch.next((e) => e.subject === "in" && e.body.kind === "hangup");
    expect((await uas.result).code).toBe(0);
    expect(gw.calls.has(watch.legSid)).toBe(false);
    // The leg is over on the gateway, and its state is still there: the answer as the event said it.
    const first = await state();
    expect(first).toEqual({
      rang: true,
      final: answered,
      answeredMsAgo: expect.any(Number),
      endedMsAgo: expect.any(Number),
    });
    expect(first.answeredMsAgo).toBeGreaterThanOrEqual(first.endedMsAgo ?? Number.NaN);
    const again = await state();
    expect(again.final).toEqual(answered);
    expect(again.endedMsAgo).toBeGreaterThanOrEqual(first.endedMsAgo ?? Number.NaN);
  });

  it("tells a leg's failure after the leg is gone, and 90010 for a leg it never placed", {
    timeout: 30_000,
  }, async () => {
    await using engine = await startTestEngine({ worker: false });
    await using gw = await startGateway(engine);
    const uas = await sippUas("uas-busy.xml");
    const { watch } = await placeLeg(
      engine.nc,
      { uri: `sip:bob@${uas.address}:${uas.port}`, from: { user: "alice" }, timeoutMs: 10_000 },
      "gw1",
    );
    await watch.next((e) => e.subject === "leg" && e.body.kind === "failed");
    expect(gw.calls.size).toBe(0);
    expect(await command(engine.nc, "gw1", watch.legSid, { op: "leg-state" })).toMatchObject({
      rang: true,
      final: { kind: "failed", sipCode: 486 },
      endedMsAgo: expect.any(Number),
    });
    const unknown = await command(engine.nc, "gw1", newSid("CA"), { op: "leg-state" }).catch(
      (e: unknown) => e,
    );
    expect(unknown).toBeInstanceOf(SwitchboardError);
    expect((unknown as SwitchboardError).code).toBe(90010);
  });
});

describe("LegStates", () => {
  it("keeps the first final event of a leg, ignores events of legs it does not know, and times both ends", () => {
    let now = 1_000;
    const legs = new LegStates(() => now);
    legs.placed("CA1");
    legs.saw("CA1", { kind: "ringing", earlyMedia: false });
    legs.saw("CA1", { kind: "answered", callId: "c1" });
    now += 500;
    legs.saw("CA1", { kind: "failed", sipCode: 488, reason: "no audio" });
    legs.saw("CA2", { kind: "answered" });
    now += 1_500;
    legs.ended("CA1");
    now += 250;
    expect(legs.of("CA1")).toEqual({
      rang: true,
      final: { kind: "answered", callId: "c1" },
      answeredMsAgo: 2_250,
      endedMsAgo: 250,
    } satisfies LegState);
    expect(legs.of("CA2")).toBeUndefined();
  });

  it("forgets an ended leg after an hour, and keeps at most 10,000 ended ones (the oldest go)", () => {
    let now = 0;
    const legs = new LegStates(() => now);
    for (let i = 0; i <= 10_000; i++) {
      legs.placed(`CA${i}`);
      legs.ended(`CA${i}`);
    }
    legs.placed("CAlive");
    expect(legs.of("CA0")).toBeUndefined();
    expect(legs.of("CA1")).toEqual({ rang: false, endedMsAgo: 0 });
    now += 3_600_001;
    expect(legs.of("CA1")).toBeUndefined();
    expect(legs.of("CA10000")).toBeUndefined();
    // A live leg stays known however long it lasts.
    expect(legs.of("CAlive")).toEqual({ rang: false });
  });

  it("refuses a state whose final event is a ringing (the schema)", () => {
    expect(
      LegStateSchema.safeParse({ rang: true, final: { kind: "ringing", earlyMedia: false } }).success,
    ).toBe(false);
    expect(LegStateSchema.safeParse({ rang: false, answeredMsAgo: -1 }).success).toBe(false);
  });
});
