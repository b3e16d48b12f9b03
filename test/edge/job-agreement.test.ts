// Issue #16 (item 1): the edge and the worker read a call with one schema. An offer whose CallSid a
// worker would not run ("CA" + upper-case hex) was acknowledged by the edge and then dropped by the
// worker, with no record and no notification. Now the edge refuses it with 90002, and a job that
// reaches a worker anyway (written by something else) ends failed, with a record and a notification.
import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCall } from "../../src/caller/place-call.js";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode, encode } from "../../src/protocol/codec.js";
import { offerCall } from "../../src/protocol/offer.js";
import { subjects } from "../../src/protocol/subjects.js";
import { openNotifications } from "../../src/store/notifications.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";

const NUMBER = "+15551230042";
const UPPER_SID = `CA${"A".repeat(32)}`;
let engine: TestEngine;

beforeAll(async () => {
  engine = await startTestEngine();
  await engine.addNumber({ number: NUMBER, voiceUrl: "http://127.0.0.1:1/voice" });
});

afterAll(async () => {
  await engine?.[Symbol.asyncDispose]();
});

/** Resolves with the `ended` event the region publishes for the call. */
function ended(callSid: string, timeoutMs = 10_000): Promise<ChannelOut> {
  const sub = engine.nc.subscribe(subjects().callOut("us1", callSid), { timeout: timeoutMs });
  return (async () => {
    for await (const msg of sub) {
      const event = decode(msg.data) as ChannelOut;
      if (event.kind === "ended") {
        sub.unsubscribe();
        return event;
      }
    }
    throw new Error(`call ${callSid} did not end`);
  })();
}

/** Resolves once the call has a notification stored (they are written after the record). */
async function notified(callSid: string): Promise<void> {
  const notifications = await openNotifications(engine.nc, "us1");
  const watch = await notifications.kv.watch({ key: `${callSid}.*` });
  const timer = setTimeout(() => watch.stop(), 5_000);
  for await (const e of watch) if (e.operation === "PUT") break;
  clearTimeout(timer);
  watch.stop();
}

describe("one call-job schema on the edge and the worker", () => {
  it("refuses with 90002 an offer whose CallSid a worker would not run", async () => {
    const err = await offerCall(engine.nc, "ashburn", {
      to: NUMBER,
      from: "+15557654321",
      callSid: UPPER_SID,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe(90002);
    expect(err.message).toMatch(/callSid/);
  });

  it("ends a job it cannot run as failed, with a record and a notification", async () => {
    const callSid = `CA${"B".repeat(32)}`;
    const end = ended(callSid);
    await engine.nc.flush();
    // As a broken publisher might store it, bypassing the edge.
    const job = {
      callSid,
      to: NUMBER,
      from: "+15557654321",
      edge: "ashburn",
      region: "us1",
      offeredAt: Date.now(),
    };
    await jetstream(engine.nc).publish(subjects().regionCalls("us1"), encode(job), { msgID: callSid });
    expect(await end).toMatchObject({ kind: "ended", status: "failed", region: "us1" });
    const call = await readCall(engine.nc, "us1", callSid);
    expect(call).toMatchObject({
      sid: callSid,
      status: "failed",
      error_code: 90002,
      account_sid: engine.accountSid,
    });
    expect(call.error_message).toMatch(/callSid/);
    await notified(callSid);
    expect((await engine.notifications(callSid)).map((n) => n.error_code)).toEqual(["90002"]);
    expect(engine.worker?.counters).toMatchObject({ invalid: 1, started: 0 });
  });
});
