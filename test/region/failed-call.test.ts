// A call whose actor fails is not dropped: it gets one stored record, failed with 90012, a
// notification and its `ended` event, and a second failure report writes nothing more.
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { callMachine } from "../../machines/call.machine.js";
import { CallClock } from "../../src/clock/call-clock.js";
import type { CallResource } from "../../src/model/records.js";
import { decode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import { storeFailedCall } from "../../src/region/host/failed-call.js";
import type { LiveCall } from "../../src/region/host/live-call.js";
import type { FailedEndContext } from "../../src/region/host/store-failed-end.js";
import { Inspector } from "../../src/region/inspect/inspector.js";
import { Notifier } from "../../src/region/outbox/notifier.js";
import { openNotifications } from "../../src/store/notifications.js";
import { openRegionStores, provisionRegionStreams } from "../../src/store/region.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

describe("a call whose actor failed", () => {
  it("ends failed with 90012 and one record, instead of disappearing", async () => {
    await using nats = await startTestNatsServer();
    const nc = await connect({ servers: nats.url });
    await provisionRegionStreams(nc, "us1");
    const stores = await openRegionStores(nc, "us1");
    const inspector = new Inspector(nc, subjects(), "us1");
    const notifier = new Notifier(await openNotifications(nc, "us1"), inspector, pino({ level: "silent" }));
    const ctx: FailedEndContext = {
      nc,
      subjects: subjects(),
      region: "us1",
      stores,
      inspector,
      notifier,
      log: pino({ level: "silent" }),
    };
    const callSid = `CA${"f".repeat(32)}`;
    const accountSid = `AC${"a".repeat(32)}`;
    // The machine is only read (its context), never started: a failure can come at any step.
    const actor = createActor(callMachine, {
      input: {
        facts: {
          callSid,
          to: "+15551230001",
          from: "+15557654321",
          region: "us1",
          edge: "ashburn",
          direction: "inbound",
        },
        accountSid,
        arrivedAt: 1_000,
      },
    });
    const call = {
      callSid,
      actor,
      clock: new CallClock(1, Date.now()),
      offeredAt: Date.now(),
    } as unknown as LiveCall;
    const out: string[] = [];
    const sub = nc.subscribe(subjects().callOut("us1", callSid), {
      callback: (_e, m) => {
        out.push((decode(m.data) as { kind: string }).kind);
      },
    });
    await nc.flush();

    await storeFailedCall(ctx, call, new Error("boom"));
    await storeFailedCall(ctx, call, new Error("boom again"));
    await nc.flush();

    const record = (await stores.calls.get(callSid)) as CallResource | undefined;
    expect(record).toMatchObject({ sid: callSid, account_sid: accountSid, status: "failed" });
    expect(record?.error_code ?? null).toBe(90012);
    expect(record?.error_message).toContain("boom");
    expect(record?.error_message).not.toContain("boom again");
    expect(out).toEqual(["ended"]);
    sub.unsubscribe();
    await nc.close();
  });
});
