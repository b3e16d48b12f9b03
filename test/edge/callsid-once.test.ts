// A CallSid is one call, for ever (issue #16, item 2): the edge refuses it (20409) for another account's
// or another number's call, in any region, also after JetStream's dedupe window has forgotten it; the
// same offer again is answered with the existing call and not run again. Real nats-server, edge, a
// worker for us1 and one for ie1, two accounts each with its own signature-checking app.
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { addAccount, newAuthToken } from "../../src/admin/accounts.js";
import { addNumber } from "../../src/admin/numbers.js";
import { readCall } from "../../src/caller/place-call.js";
import { Edge } from "../../src/edge/edge.js";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { newSid } from "../../src/model/sid.js";
import { readChannelOut } from "../../src/protocol/channel-events.js";
import { decode, encode } from "../../src/protocol/codec.js";
import { type Offer, type OfferReply, offerCall } from "../../src/protocol/offer.js";
import { streams, subjects } from "../../src/protocol/subjects.js";
import { RegionWorker } from "../../src/region/worker.js";
import { openGlobalStores } from "../../src/store/global.js";
import { openRegionStores } from "../../src/store/region.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { setUp, type Teardown } from "../helpers/teardown.js";
import { startTwilioApp, type TwilioApp } from "../helpers/twilio-app.js";

const log = pino({ level: "silent" });
const FROM = "+15557654321";
let t: Teardown;
let nc: NatsConnection;
const accounts = {
  a: { sid: newSid("AC"), token: newAuthToken() },
  b: { sid: newSid("AC"), token: newAuthToken() },
};
const apps: Record<"a" | "b", TwilioApp> = {} as never;
/** A's numbers in us1 and ie1, and B's in us1. */
const numbers = { aUs1: "+15551600001", aIe1: "+353155600001", bUs1: "+15551600002" };

beforeAll(async () => {
  t = await setUp(async (t) => {
    const nats = t.use(await startTestNatsServer());
    nc = t.add(await connect({ servers: nats.url }), (c) => c.close());
    for (const region of ["us1", "ie1"]) {
      t.add(await RegionWorker.start({ nc, region, log }), (w) => w.stop());
    }
    // The dedupe window, shrunk before any call, so a test can outlast it (the default is 2 minutes).
    const jsm = await jetstreamManager(nc);
    const stream = streams.calls("us1");
    const { config } = await jsm.streams.info(stream);
    await jsm.streams.update(stream, { ...config, duplicate_window: 300 * 1_000_000 });
    const global = await openGlobalStores(nc);
    for (const key of ["a", "b"] as const) {
      const { sid, token } = accounts[key];
      await addAccount(global, { sid, token });
      apps[key] = t.use(
        await startTwilioApp(token, { "/voice": () => ({ body: `<Response><Say>${key}</Say></Response>` }) }),
      );
    }
    const add = (number: string, region: string, key: "a" | "b") =>
      addNumber(nc, global, {
        number,
        region,
        voiceUrl: `${apps[key].url}/voice`,
        accountSid: accounts[key].sid,
      });
    await add(numbers.aUs1, "us1", "a");
    await add(numbers.aIe1, "ie1", "a");
    await add(numbers.bUs1, "us1", "b");
    t.add(await Edge.start({ nc, edge: "ashburn", log }), (e) => e.stop());
    return t;
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

/** Offers the call and resolves with the edge's reply and, once it ended, the region it ended in. */
async function offerAndEnd(offer: Offer): Promise<{ reply: OfferReply; ended: Promise<string> }> {
  const callSid = offer.callSid ?? "";
  let ended!: (region: string) => void;
  const end = new Promise<string>((resolve) => {
    ended = resolve;
  });
  const sub = nc.subscribe(subjects().anyCallOut(callSid), {
    callback: (err, msg) => {
      const event = err ? undefined : readChannelOut(decode(msg.data));
      if (event?.kind === "ended") ended(event.region);
    },
  });
  await nc.flush();
  const reply = await offerCall(nc, "ashburn", offer);
  const bounded = Promise.race([
    end,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${callSid} did not end`)), 10_000)),
  ]).finally(() => sub.unsubscribe());
  return { reply, ended: bounded };
}

async function refusal(offer: Offer): Promise<SwitchboardError> {
  try {
    await offerCall(nc, "ashburn", offer);
  } catch (err) {
    if (err instanceof SwitchboardError) return err;
    throw err;
  }
  throw new Error("the edge accepted the offer");
}

/**
 * Waits until SB_CALLS_US1 no longer remembers `callSid` as a message id. The probe names a last
 * message id that cannot match: within the window the stream answers "duplicate" (and stores
 * nothing); after it, it refuses the probe for that expectation — and still stores nothing.
 */
async function dedupeForgets(callSid: string): Promise<void> {
  const js = jetstream(nc);
  await vi.waitFor(
    async () => {
      let ack: { duplicate: boolean } | undefined;
      try {
        ack = await js.publish(subjects().regionCalls("us1"), encode({ probe: true }), {
          msgID: callSid,
          expect: { lastMsgID: "no-such-message" },
        });
      } catch (err) {
        if (/wrong last msg ?id/i.test(String((err as Error).message))) return;
        throw err;
      }
      throw new Error(`the stream still knows ${callSid} (duplicate: ${ack.duplicate})`);
    },
    { timeout: 10_000, interval: 100 },
  );
}

const voiceRequests = (key: "a" | "b", callSid: string) =>
  apps[key].requests.filter((r) => r.path === "/voice" && r.params.CallSid === callSid);

describe("a CallSid is one call", () => {
  it("answers the same offer again with the existing call, without running it again, also after the dedupe window", async () => {
    const callSid = newSid("CA");
    const offer = {
      to: numbers.aUs1,
      from: FROM,
      callSid,
      accountSid: accounts.a.sid,
      caller: { timeScale: 0 },
    };
    const first = await offerAndEnd(offer);
    expect(first.reply).toEqual({ callSid, region: "us1" });
    await first.ended;
    const record = await readCall(nc, "us1", callSid);
    await dedupeForgets(callSid);
    expect(await offerCall(nc, "ashburn", offer)).toEqual({ callSid, region: "us1" });
    // Nothing new is queued for a worker, and the app heard of the call once.
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(streams.calls("us1"))).state.messages).toBe(0);
    expect(voiceRequests("a", callSid)).toHaveLength(1);
    expect(await readCall(nc, "us1", callSid)).toEqual(record);
  });

  it("refuses another account's offer of a CallSid that ended, after the dedupe window, and keeps its record", async () => {
    const callSid = newSid("CA");
    const mine = await offerAndEnd({ to: numbers.aUs1, from: FROM, callSid, caller: { timeScale: 0 } });
    await mine.ended;
    const record = await readCall(nc, "us1", callSid);
    expect(record.account_sid).toBe(accounts.a.sid);
    await dedupeForgets(callSid);
    const err = await refusal({ to: numbers.bUs1, from: FROM, callSid, caller: { timeScale: 0 } });
    expect(err.code).toBe(20409);
    expect(err.message).toContain(callSid);
    // B's number is the same account's when the offer names it: refused the same way.
    const named = await refusal({ to: numbers.bUs1, from: FROM, callSid, accountSid: accounts.b.sid });
    expect(named.code).toBe(20409);
    expect(voiceRequests("b", callSid)).toHaveLength(0);
    expect(await readCall(nc, "us1", callSid)).toEqual(record);
  });

  it("refuses a CallSid offered to a number in another region while its call runs there", async () => {
    const callSid = newSid("CA");
    const us1 = await offerAndEnd({ to: numbers.aUs1, from: FROM, callSid, caller: { timeScale: 0 } });
    expect(us1.reply.region).toBe("us1");
    // Within the window too: the ie1 stream has its own dedupe, which never saw this CallSid.
    const err = await refusal({ to: numbers.aIe1, from: FROM, callSid, caller: { timeScale: 0 } });
    expect(err.code).toBe(20409);
    expect(await us1.ended).toBe("us1");
    const ie1 = await openRegionStores(nc, "ie1");
    expect(await ie1.calls.get(callSid)).toBeUndefined();
    expect(voiceRequests("a", callSid)).toHaveLength(1);
  });

  it("takes a CallSid for a refused offer only when the offer itself was valid", async () => {
    const callSid = newSid("CA");
    // A bad caller script is refused before the CallSid is claimed: the corrected offer then runs.
    const bad = await refusal({ to: numbers.aUs1, from: FROM, callSid, caller: { timeScale: 5 } });
    expect(bad.code).toBe(90002);
    const good = await offerAndEnd({ to: numbers.aUs1, from: FROM, callSid, caller: { timeScale: 0 } });
    expect(good.reply).toEqual({ callSid, region: "us1" });
    await good.ended;
  });
});
