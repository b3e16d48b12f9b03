// The visualizer end to end in a real headless Chromium: calls placed through a real edge and
// region appear live in the list; a call's page draws the machine's statechart with the current
// state highlighted, lists the webhook requests in order, steps back through the history, and
// follows the live call to its end; each page asks for a login first. Screenshots land in
// test/artifacts/.
import { mkdir } from "node:fs/promises";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatelyMessage } from "../../src/visualizer/stately.js";
import { CHROMIUM_ARGS, CHROMIUM_PATH, logIn } from "./chromium.js";
import { CRASH_BODY, startVizStage, type VizStage } from "./stage.js";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const WAIT = { timeout: 15_000, interval: 50 };
const VIEWPORT = { width: 1440, height: 900 };

let stage: VizStage;
let browser: Browser;

beforeAll(async () => {
  // Settled one by one: when one start fails, afterAll still stops the other.
  const [started, launched] = await Promise.allSettled([
    startVizStage(),
    chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS }),
  ]);
  if (started.status === "fulfilled") stage = started.value;
  if (launched.status === "fulfilled") browser = launched.value;
  for (const r of [started, launched]) if (r.status === "rejected") throw r.reason;
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await stage?.[Symbol.asyncDispose]();
});

/** A new browser (no cookies) on the page, logged in through the form as the stage's account. */
async function open(path: string): Promise<Page> {
  const page = await openLoggedOut(path);
  await logIn(page, stage.account.sid, stage.account.token);
  expect(new URL(page.url()).pathname).toBe(path);
  return page;
}

async function openLoggedOut(path: string): Promise<Page> {
  // The size of a laptop screen: the whole statechart must show on it without scrolling.
  const page = await browser.newPage({ viewport: VIEWPORT });
  page.on("pageerror", (err) => {
    throw err;
  });
  await page.goto(`${stage.api.url}${path}`);
  return page;
}

const basic = (sid: string, token: string) => ({
  authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString("base64")}`,
});

const activeTop = (page: Page) =>
  page.locator('#chart [data-state-id][data-depth="1"].active').getAttribute("data-state-id");
const webhookTexts = (page: Page) =>
  page.locator('#timeline li[data-kind="webhook"] .what').allTextContents();

describe("the call-flow visualizer in Chromium", () => {
  it("lists calls as they happen, then shows a live call's statechart, webhooks and history", async () => {
    const list = await open("/viz/");
    await list.locator("#connection.live").waitFor();

    // A call that runs Say, Pause, Gather (the caller presses 1), Say, Redirect, Say, Hangup appears.
    const finished = await stage.placeFinishing();
    await list.locator(`tr[data-sid="${finished.callSid}"] [data-status="completed"]`).waitFor();

    // A call parked in a long Pause appears as live, with its current state.
    const parked = await stage.placeParked();
    const row = list.locator(`tr[data-sid="${parked}"][data-live="true"]`);
    await row.waitFor();
    await expect.poll(() => row.locator("td").nth(7).textContent(), WAIT).toBe("executing-twiml.verb(Pause)");
    expect(await row.locator("td").nth(3).textContent()).toBe("ashburn");
    await list.screenshot({ path: new URL("visualizer-list.png", ARTIFACTS).pathname });

    await row.locator("a").click();
    await list.waitForURL(`**/viz/calls/${parked}`);
    const page = list;
    await expect.poll(() => page.locator('#chart [data-state-id][data-depth="1"]').count(), WAIT).toBe(6);
    const keys = await page.locator('#chart [data-depth="1"] text.name').allTextContents();
    expect(keys).toEqual([
      "arriving",
      "routed",
      "fetching-webhook",
      "executing-twiml",
      "storing",
      "completed",
    ]);
    await expect.poll(() => activeTop(page), WAIT).toBe("call.executing-twiml");
    expect(await page.locator('[data-state-id="call.executing-twiml.verb"].active').count()).toBe(1);
    // The verb the call runs is named on executing-twiml.
    expect(await page.locator('[data-state-id="call.executing-twiml"] text.verb-now').textContent()).toBe(
      "▸ Pause #0",
    );
    // The whole chart, and each of the six states, is in view at 1440 x 900, at a legible size.
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
      VIEWPORT.width,
    );
    const wrap = page.locator(".chart-wrap");
    expect(
      await wrap.evaluate((w) => [w.scrollWidth - w.clientWidth, w.scrollHeight - w.clientHeight]),
    ).toEqual([0, 0]);
    const chart = (await page.locator("#chart").boundingBox()) ?? fail();
    expect(chart.x).toBeGreaterThanOrEqual(0);
    expect(chart.y + chart.height).toBeLessThanOrEqual(VIEWPORT.height);
    for (const state of await page.locator('#chart [data-state-id][data-depth="1"]').all()) {
      const b = (await state.locator("rect").first().boundingBox()) ?? fail();
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(VIEWPORT.width);
      expect(b.y + b.height).toBeLessThanOrEqual(VIEWPORT.height);
      const name = (await state.locator("text.name").boundingBox()) ?? fail();
      expect(name.height).toBeGreaterThanOrEqual(11);
    }
    expect(await page.locator("#chart .transition.taken").count()).toBeGreaterThan(5);
    expect(await webhookTexts(page)).toEqual([
      `POST ${stage.app.url}/hold  CallStatus=ringing  -> 200 text/xml`,
      `POST ${stage.app.url}/park  CallStatus=in-progress  -> 200 text/xml`,
    ]);

    // One step back: the request for /park is being made, the Pause is still ahead.
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => page.locator("#where").getAttribute("data-label"), WAIT).toBe("fetching-webhook");
    expect(await activeTop(page)).toBe("call.fetching-webhook");
    expect(await page.locator('#timeline li.future[data-kind="channel"]').allTextContents()).toEqual([
      expect.stringContaining("pause 600 s"),
    ]);
    // Clicking the request shows its parameters and the TwiML that came back.
    await page.locator('#timeline li[data-kind="webhook"]').nth(1).click();
    expect(await page.locator("#detail").textContent()).toContain('<Pause length="600"/>');
    await page.screenshot({ path: new URL("visualizer-call.png", ARTIFACTS).pathname });

    // The caller hangs up: the page follows the call to its end.
    stage.hangUp(parked);
    await expect
      .poll(() => page.locator("#status [data-status]").getAttribute("data-status"), WAIT)
      .toBe("completed");
    await page.keyboard.press("End");
    await expect.poll(() => activeTop(page), WAIT).toBe("call.completed");
    expect(await page.locator("#where").getAttribute("data-label")).toBe("completed");
    await page.close();
  });

  it("shows a finished call, steps back from completed, and exports its history", async () => {
    const finished = await stage.placeFinishing();
    const page = await open(`/viz/calls/${finished.callSid}`);
    await expect.poll(() => activeTop(page), WAIT).toBe("call.completed");
    expect(await webhookTexts(page)).toEqual([
      `POST ${stage.app.url}/voice  CallStatus=ringing  -> 200 text/xml`,
      `POST ${stage.app.url}/menu  CallStatus=in-progress  -> 200 text/xml`,
      `POST ${stage.app.url}/bye  CallStatus=in-progress  -> 200 text/xml`,
    ]);
    await page.locator("#prev").click();
    await expect.poll(() => activeTop(page), WAIT).toBe("call.storing");
    await page.screenshot({ path: new URL("visualizer-finished.png", ARTIFACTS).pathname });
    await page.close();

    // A call whose app cannot be fetched shows the error with its Twilio code.
    const broken = await stage.placeBroken();
    const failed = await open(`/viz/calls/${broken.callSid}`);
    await failed.locator("#notes li.error").first().waitFor();
    expect(await failed.locator("#notes li.error").first().textContent()).toMatch(/^error 11200 .*404/);
    expect(await failed.locator("#timeline").textContent()).toContain(
      "We are sorry, an application error has occurred",
    );
    await failed.close();

    const auth = { headers: basic(stage.account.sid, stage.account.token) };
    expect((await fetch(`${stage.api.url}/viz/api/calls/${finished.callSid}/history.json`)).status).toBe(401);
    const history = await (
      await fetch(`${stage.api.url}/viz/api/calls/${finished.callSid}/history.json`, auth)
    ).json();
    expect(history).toMatchObject({
      callSid: finished.callSid,
      region: "us1",
      call: { status: "completed" },
    });
    expect(JSON.stringify(history)).not.toMatch(/X-Twilio-Signature|auth_token/i);
    const res = await fetch(`${stage.api.url}/viz/api/calls/${finished.callSid}/stately.json`, auth);
    const stately = (await res.json()) as StatelyMessage[];
    expect(stately[0]).toMatchObject({ type: "@xstate.actor", name: "call", sessionId: finished.callSid });
    expect(stately.at(-1)).toMatchObject({ type: "@xstate.snapshot", snapshot: { value: "completed" } });
  });
});

describe("the debugger view in Chromium", () => {
  it("shows what a failing webhook answered: status, headers and body", async () => {
    const crashed = await stage.placeCrashing();
    const page = await open(`/viz/calls/${crashed.callSid}`);
    const request = page.locator('#timeline li[data-kind="webhook"]').first();
    await request.waitFor();
    expect(await request.locator(".what").textContent()).toBe(
      `POST ${stage.app.url}/crash  CallStatus=ringing  -> 500 (11200)`,
    );
    await request.click();
    const detail = page.locator("#detail");
    await detail.locator("[data-response-status]").waitFor();
    expect(await detail.locator("[data-response-status]").getAttribute("data-response-status")).toBe("500");
    const text = (await detail.textContent()) ?? "";
    expect(text).toContain(CRASH_BODY);
    expect(text).toContain("x-app: survey");
    expect(text).not.toContain("no response");
    await page.close();
  });

  it("names why each step happened and shows the caller's key press on a line of its own", async () => {
    const finished = await stage.placeFinishing();
    const page = await open(`/viz/calls/${finished.callSid}`);
    await expect.poll(() => activeTop(page), WAIT).toBe("call.completed");
    const inputs = await page.locator('#timeline li[data-kind="input"] .what').allTextContents();
    expect(inputs).toEqual(["digits 1"]);
    const states = await page.locator('#timeline li[data-kind="state"] .what').allTextContents();
    expect(states).toContain("fetching-webhook  [in-progress]  ← key press 1");
    expect(states).toContain("fetching-webhook  [in-progress]  ← Redirect finished");
    expect(states[0]).toBe("arriving  [queued]  ← call offered");
    // The TwiML of the running document is shown indented.
    await page.locator('#timeline li[data-kind="webhook"]').first().click();
    expect(await page.locator("#detail").textContent()).toContain(
      '\n  <Say voice="woman">Thanks for calling switchboard.</Say>\n',
    );
    await page.close();
  });
});

describe("the visualizer's login in Chromium", () => {
  it("shows a logged-out browser the login form, refuses a wrong token, and logs out", async () => {
    const finished = await stage.placeFinishing();
    const page = await openLoggedOut(`/viz/calls/${finished.callSid}`);
    // Sent to the form, which will bring it back to the call.
    await page.locator("form#login #user").waitFor();
    const url = new URL(page.url());
    expect(url.pathname).toBe("/viz/login");
    expect(url.searchParams.get("next")).toBe(`/viz/calls/${finished.callSid}`);
    expect(await page.locator("#chart, #calls").count()).toBe(0);

    await page.locator("#user").fill(stage.account.sid);
    await page.locator("#token").fill("not-the-token");
    await page.locator('form#login button[type="submit"]').click();
    await expect.poll(() => page.locator("#error").textContent(), WAIT).toBe("wrong AccountSid or token");
    expect(new URL(page.url()).pathname).toBe("/viz/login");

    await logIn(page, stage.account.sid, stage.account.token);
    expect(new URL(page.url()).pathname).toBe(`/viz/calls/${finished.callSid}`);
    await expect.poll(() => activeTop(page), WAIT).toBe("call.completed");
    expect(await page.locator("#who").textContent()).toBe(stage.account.sid);

    // Logging out ends the session: the page and its data need a login again.
    await page.locator("#logout").click();
    await page.locator("form#login #user").waitFor();
    await page.goto(`${stage.api.url}/viz/`);
    await page.locator("form#login #user").waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.filter((c) => c.name === "sb_viz_session" && c.value !== "")).toEqual([]);

    // After a login the form goes on to a visualizer page only, never to another site.
    await page.goto(`${stage.api.url}/viz/login?next=${encodeURIComponent("//evil.example/viz/")}`);
    await logIn(page, stage.account.sid, stage.account.token);
    expect(page.url()).toBe(`${stage.api.url}/viz/`);
    await page.close();
  });
});

function fail(): never {
  throw new Error("not on the page");
}
