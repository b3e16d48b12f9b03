// Running <Dial> against a fake DialNetwork and channel: the action's parameters, fall-through,
// timeLimit, hangupOnStar and the legs' status callbacks, on a clock the test moves.
import { describe, expect, it } from "vitest";
import { parseTwiml } from "../../src/twiml/parse.js";
import type { DialVerb } from "../../src/twiml/verbs/dial/data.js";
import { dial } from "../../src/twiml/verbs/dial.js";
import { fakeContext } from "./fakes.js";

const DOC = "https://app.example/calls/start";

describe("running <Dial>", () => {
  const verb = (xml: string) => parseTwiml(`<Response>${xml}</Response>`, DOC).verbs[0] as DialVerb;
  const live = () => new AbortController().signal;

  it("without action, falls through to the next verb once the callee hangs up", async () => {
    const { ctx, network } = fakeContext();
    const running = dial.execute(ctx, verb("<Dial>+15551230000</Dial>"), live());
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    network.calleeHangsUp();
    expect(await running).toEqual({ kind: "next" });
    expect(network.rings[0]).toMatchObject({ timeoutS: 30, callerId: "+15557654321" });
  });

  it("requests the action with DialCallStatus, DialCallSid, DialCallDuration and DialBridged", async () => {
    const { ctx, network } = fakeContext();
    const running = dial.execute(
      ctx,
      verb(`<Dial action="/done" callerId="+15550001111">+15551230000</Dial>`),
      live(),
    );
    await new Promise((r) => setImmediate(r));
    network.calleeHangsUp();
    expect(await running).toEqual({
      kind: "fetch",
      url: "https://app.example/done",
      method: "POST",
      params: {
        DialCallStatus: "completed",
        DialCallSid: "CA0000000000000000000000000000c001",
        DialCallDuration: "12",
        DialBridged: "true",
      },
    });
    expect(network.rings[0]?.callerId).toBe("+15550001111");
    expect(network.hungUp).toBe(true);
  });

  it.each(["busy", "no-answer", "failed"] as const)("reports %s without a bridge", async (status) => {
    const { ctx, network } = fakeContext();
    network.next = status;
    const outcome = await dial.execute(ctx, verb(`<Dial action="/done">+15551230000</Dial>`), live());
    expect(outcome).toMatchObject({
      params: { DialCallStatus: status, DialCallDuration: "0", DialBridged: "false" },
    });
  });

  it("ends the bridge at the time limit, on the call's clock", async () => {
    const { ctx, network, clock } = fakeContext();
    const running = dial.execute(
      ctx,
      verb(`<Dial action="/done" timeLimit="20">+15551230000</Dial>`),
      live(),
    );
    await new Promise((r) => setImmediate(r));
    expect(network.hungUp).toBe(false);
    clock.advance(20_000);
    expect(await running).toMatchObject({ params: { DialCallStatus: "completed", DialBridged: "true" } });
    expect(network.hungUp).toBe(true);
  });

  it("hangupOnStar: * ends the bridge; without it * does nothing", async () => {
    const { ctx, network, channel } = fakeContext();
    const running = dial.execute(
      ctx,
      verb(`<Dial action="/done" hangupOnStar="true">+15551230000</Dial>`),
      live(),
    );
    await new Promise((r) => setImmediate(r));
    expect(channel.calls).toContainEqual([
      "bridge",
      { callSid: "CA0000000000000000000000000000c001", to: "+15551230000", hangupOnStar: true },
    ]);
    channel.pressStar();
    expect(await running).toMatchObject({ params: { DialCallStatus: "completed" } });
    expect(network.hungUp).toBe(true);

    const other = fakeContext();
    const second = dial.execute(other.ctx, verb(`<Dial action="/done">+15551230000</Dial>`), live());
    await new Promise((r) => setImmediate(r));
    other.channel.pressStar();
    await new Promise((r) => setImmediate(r));
    expect(other.network.hungUp).toBe(false);
    other.network.calleeHangsUp();
    await second;
  });

  it("sends each leg event the noun subscribed to, keyed by the child's CallSid", async () => {
    const { ctx, network, callbacks } = fakeContext();
    network.next = "busy";
    await dial.execute(
      ctx,
      verb(
        `<Dial><Number statusCallback="/leg" statusCallbackEvent="ringing completed">+15551230000</Number></Dial>`,
      ),
      live(),
    );
    await new Promise((r) => setImmediate(r));
    expect(callbacks.map((c) => [c.url, c.key])).toEqual([
      ["https://app.example/leg", "CA0000000000000000000000000000c001.ringing"],
      ["https://app.example/leg", "CA0000000000000000000000000000c001.completed"],
    ]);
  });

  it("rings every noun at once", async () => {
    const { ctx, network } = fakeContext();
    network.next = "no-answer";
    await dial.execute(
      ctx,
      verb(`<Dial><Number>+15551230000</Number><Client>alice</Client><Sip>sip:bob@example.com</Sip></Dial>`),
      live(),
    );
    expect(network.rings).toHaveLength(1);
    expect(network.rings[0]?.targets.map((t) => t.to)).toEqual([
      "+15551230000",
      "client:alice",
      "sip:bob@example.com",
    ]);
  });
});
