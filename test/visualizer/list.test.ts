// The call list as a debugger in real Chromium: a call whose webhook failed is marked, the list
// filters by errors, and a search finds any stored call — also one older than the newest 500 the
// page is sent — through the server's search of the call index.
import { Kvm } from "@nats-io/kv";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallResource } from "../../src/model/records.js";
import { newSid } from "../../src/model/sid.js";
import { buckets } from "../../src/protocol/subjects.js";
import { CHROMIUM_ARGS, CHROMIUM_PATH, logIn } from "./chromium.js";
import { CRASHING, type Credentials, startVizStage, type VizStage } from "./stage.js";

const WAIT = { timeout: 15_000, interval: 50 };

let stage: VizStage;
let browser: Browser;

beforeAll(async () => {
  const [started, launched] = await Promise.allSettled([
    startVizStage(),
    chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS }),
  ]);
  if (started.status === "fulfilled") stage = started.value;
  if (launched.status === "fulfilled") browser = launched.value;
  for (const r of [started, launched]) if (r.status === "rejected") throw r.reason;
});

afterAll(async () => {
  await browser?.close();
  await stage?.[Symbol.asyncDispose]();
});

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on("pageerror", (err) => {
    throw err;
  });
  await page.goto(`${stage.api.url}${path}`);
  await logIn(page, stage.account.sid, stage.account.token);
  return page;
}

/** A data route, with an account's Basic credentials. */
const get = (path: string, who: Credentials = stage.account) =>
  fetch(`${stage.api.url}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${who.sid}:${who.token}`).toString("base64")}` },
  });

/** Stores `count` completed calls that started after `after`, as the region would have. */
async function storeNewerCalls(like: CallResource, count: number): Promise<void> {
  const kv = await new Kvm(stage.nc).open(buckets.calls("us1"));
  const base = Date.parse(like.start_time ?? like.date_created) + 60_000;
  for (let i = 0; i < count; i++) {
    const sid = newSid("CA");
    const at = new Date(base + i * 1000).toUTCString().replace("GMT", "+0000");
    await kv.put(sid, JSON.stringify({ ...like, sid, start_time: at, date_created: at, error_code: null }));
  }
}

describe("the call list as a debugger", () => {
  it("marks a call whose webhook failed, filters by errors, and searches every stored call", async () => {
    const crashed = await stage.placeCrashing();
    const finished = await stage.placeFinishing();
    const list = await open("/viz/");
    const crashedRow = list.locator(`tr[data-sid="${crashed.callSid}"]`);
    await crashedRow.locator("[data-errors]").waitFor();
    expect(await crashedRow.locator('[data-status="completed"]').count()).toBe(1);
    expect(await list.locator(`tr[data-sid="${finished.callSid}"] [data-errors]`).count()).toBe(0);
    await list.locator("#status").selectOption("errors");
    await expect.poll(() => list.locator("#calls tbody tr").count(), WAIT).toBe(1);
    expect(await list.locator("#calls tbody tr").getAttribute("data-sid")).toBe(crashed.callSid);
    await list.close();

    // 500 newer calls: the crashed one is no longer among those the page is sent.
    await storeNewerCalls(finished.call, 500);
    await expect
      .poll(async () => {
        const res = await get("/viz/api/calls");
        const { calls } = (await res.json()) as { calls: Array<{ callSid: string }> };
        return calls.length === 500 && !calls.some((c) => c.callSid === crashed.callSid);
      }, WAIT)
      .toBe(true);
    const later = await open("/viz/");
    await expect.poll(() => later.locator("#calls tbody tr").count(), WAIT).toBe(500);
    await later.locator("#search").fill(crashed.callSid);
    const found = later.locator(`tr[data-sid="${crashed.callSid}"]`);
    await found.waitFor({ timeout: 15_000 });
    expect(await found.locator("[data-errors]").textContent()).toBe("1 error");
    await expect
      .poll(() => later.locator("#count").textContent(), WAIT)
      .toBe("1 matching of every stored call");
    // By number and by status too, over the whole store.
    await later.locator("#search").fill(CRASHING);
    await expect.poll(() => later.locator(`tr[data-sid="${crashed.callSid}"]`).count(), WAIT).toBe(1);
    await later.close();
  });

  it("answers searches at /viz/api/calls/search from the call index", async () => {
    const crashed = await stage.placeCrashing();
    const res = await get(`/viz/api/calls/search?q=${crashed.callSid}`);
    const body = (await res.json()) as { calls: Array<Record<string, unknown>>; complete: boolean };
    expect(body.calls).toEqual([
      expect.objectContaining({
        callSid: crashed.callSid,
        status: "completed",
        to: CRASHING,
        errors: 1,
      }),
    ]);
    const byStatus = await get("/viz/api/calls/search?q=completed");
    expect(((await byStatus.json()) as { calls: unknown[] }).calls.length).toBeGreaterThan(1);
    // Another account's search does not find it, not even by its CallSid; without a login, 401.
    const other = await get(`/viz/api/calls/search?q=${crashed.callSid}`, stage.other);
    expect(((await other.json()) as { calls: unknown[] }).calls).toEqual([]);
    expect((await fetch(`${stage.api.url}/viz/api/calls/search?q=completed`)).status).toBe(401);
  });
});
