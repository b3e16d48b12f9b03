// One webhook response cannot fill the disk (issue #16, item 9): a document's warnings are bounded,
// the same warning again is one notification with a count, a response body is stored once, and a
// call stores at most 100 distinct notifications. Real nats-server, edge, worker and app.
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listKeysOf } from "../../src/store/cas-kv.js";
import { openNotifications } from "../../src/store/notifications.js";
import { type Compat, raw, startCompat } from "./harness.js";

let compat: Compat;

beforeAll(async () => {
  compat = await startCompat(1_244_000);
}, 60_000);

afterAll(async () => {
  await compat?.[Symbol.asyncDispose]();
});

const xml = (body: string) => raw(() => ({ body }));
const unknownAttributes = (n: number) => Array.from({ length: n }, (_, i) => `x${i}="v"`).join(" ");

/** Keys and bytes of everything the call left in `sb_notifications_us1`. */
async function stored(callSid: string): Promise<{ notes: number; bodies: number; bytes: number }> {
  const kv = await openNotifications(compat.engine.nc, "us1");
  const notes = await listKeysOf(kv.kv, `${callSid}.*`);
  const bodies = await listKeysOf(kv.kv, `bodies.${callSid}.*`);
  let bytes = 0;
  for (const key of [...notes, ...bodies]) bytes += (await kv.kv.get(key))?.length ?? 0;
  return { notes: notes.length, bodies: bodies.length, bytes };
}

describe("notification limits", () => {
  it("stores one 12100 error for a <Say> with 5,000 unknown attributes, not 5,000 warnings", async () => {
    const s = await compat.scenario("five-thousand", {
      "/voice": xml(`<Response><Say ${unknownAttributes(5_000)}>hi</Say></Response>`),
    });
    const run = await s.call();
    const notes = await run.notifications(1);
    expect(notes.map((n) => n.error_code)).toEqual(["12100"]);
    expect((await stored(run.callSid)).bytes).toBeLessThan(16 * 1024);
  });

  it("stores 20 warnings of a document with 60 bad attributes, one that counts the rest, and its body once", async () => {
    const body = `<Response><Say ${unknownAttributes(60)}>hi</Say></Response>`;
    const s = await compat.scenario("sixty", { "/voice": xml(body) });
    const run = await s.call();
    expect(run.said).toEqual(["hi"]);
    const notes = await run.notifications(21);
    expect(notes).toHaveLength(21);
    expect(notes.at(-1)?.message_text).toBe(
      "40 more warnings in this document not shown (at most 20 are kept)",
    );
    // Every notification shows the body, which is stored once.
    for (const n of notes) expect(n.response_body).toBe(body);
    expect(await stored(run.callSid)).toMatchObject({ notes: 21, bodies: 1 });
  });

  it("stores a self-<Redirect>'s repeated warnings once each, with a count, and stops at the document limit", async () => {
    // Before: 30 warnings per document × 1,000 documents, each with its own copy of the body.
    const s = await compat.scenario("self-redirect", {
      "/voice": xml(
        `<Response><Say ${unknownAttributes(30)}>hi</Say><Redirect>/self-redirect/voice</Redirect></Response>`,
      ),
    });
    const run = await s.call();
    await run.of("/status");
    const notes = await run.notifications(22);
    const codes = notes.map((n) => n.error_code);
    // 20 warnings, the one that counts the other 10, and the 90006 that ended the loop.
    expect(codes.filter((c) => c === "12200")).toHaveLength(21);
    expect(codes).toContain("90006");
    expect(notes).toHaveLength(22);
    expect(notes[0]?.message_text).toMatch(/ \(1000 times\)$/);
    const { bodies, bytes } = await stored(run.callSid);
    expect(bodies).toBe(1);
    expect(bytes).toBeLessThan(64 * 1024);
  }, 60_000);

  it("stores at most 100 distinct warnings for a call, one 90013 that counts the rest, and the error that ended it", async () => {
    // Each document has 20 new warnings (its query string differs), five redirects apart.
    const page = (n: number) =>
      `<Response><Say ${unknownAttributes(20).replaceAll("x", `p${n}x`)}>hi</Say>` +
      `<Redirect>/distinct/voice?n=${n + 1}</Redirect></Response>`;
    const s = await compat.scenario("distinct", {
      "/voice": raw((req) => ({
        body: page(Number(new URL(req.url, "http://x").searchParams.get("n") ?? 0)),
      })),
    });
    const run = await s.call();
    await run.of("/status");
    const notes = await run.notifications(102);
    expect(notes).toHaveLength(102);
    expect(notes.filter((n) => n.error_code === "12200")).toHaveLength(100);
    // 1,000 documents of 20 warnings: 100 stored, the first over the limit is the 90013, and it counts the rest.
    const limit = notes.find((n) => n.error_code === "90013");
    expect(limit?.message_text).toMatch(/ \(19900 times\)$/);
    expect(notes.at(-1)?.error_code).toBe("90006");
  }, 60_000);

  it("gives the bucket an age and a size, dropping the oldest when full", async () => {
    const jsm = await jetstreamManager(compat.engine.nc);
    const { config } = await jsm.streams.info("KV_sb_notifications_us1");
    expect(config).toMatchObject({
      max_age: 30 * 24 * 60 * 60 * 1_000_000_000,
      max_bytes: 512 * 1024 * 1024,
      discard: "old",
    });
  });
});
