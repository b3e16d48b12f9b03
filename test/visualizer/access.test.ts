// Who sees what in the visualizer, on a real engine (nats-server, edge, worker, api): two accounts
// with a call each. An account's credentials show its own calls and 404 for the other's in every
// route and in the live streams; no credentials get 401; wrong tokens count against the REST API's
// failed-login limiter; the operator sees both. The session cookie and logout are checked too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount } from "../../src/admin/accounts.js";
import { LoginLimiter } from "../../src/api/login-limiter.js";
import { openGlobalStores } from "../../src/store/global.js";
import { openSse, type SseClient, type SseEvent } from "./sse-client.js";
import { type Credentials, OPERATOR_TOKEN, startVizStage, type VizStage } from "./stage.js";

let stage: VizStage;
let mine: string; // the stage's account's call
let theirs: string; // the other account's call
const clock = { t: Date.now() };
const limiter = new LoginLimiter({ now: () => clock.t });
const streams: SseClient[] = [];

beforeAll(async () => {
  stage = await startVizStage({ loginLimiter: limiter });
  mine = (await stage.placeFinishing()).callSid;
  theirs = (await stage.placeOthers()).callSid;
});

afterAll(async () => {
  for (const s of streams) s.close();
  await stage?.[Symbol.asyncDispose]();
});

const basic = (c: Credentials) => ({
  authorization: `Basic ${Buffer.from(`${c.sid}:${c.token}`).toString("base64")}`,
});
const operator = () => ({
  authorization: `Basic ${Buffer.from(`operator:${OPERATOR_TOKEN}`).toString("base64")}`,
});
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${stage.api.url}${path}`, { headers, redirect: "manual" });
const listed = async (headers: Record<string, string>) =>
  ((await (await get("/viz/api/calls", headers)).json()) as { calls: { callSid: string }[] }).calls.map(
    (c) => c.callSid,
  );
const callRoutes = (sid: string) => [
  `/viz/api/calls/${sid}`,
  `/viz/api/calls/${sid}/history.json`,
  `/viz/api/calls/${sid}/stately.json`,
];
const sse = async (path: string, headers: Record<string, string>) => {
  const s = await openSse(`${stage.api.url}${path}`, headers);
  streams.push(s);
  return s;
};
const names = (events: SseEvent[]) =>
  events.flatMap((e) => ((e.data as { calls?: { callSid: string }[] }).calls ?? []).map((c) => c.callSid));

/** Logs in through the form's route; the session cookie to send back. */
async function logIn(user: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stage.api.url}/viz/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ user, token }),
  });
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { res, setCookie, cookie: { cookie: setCookie.split(";")[0] ?? "" } };
}

describe("the visualizer's access rules", () => {
  it("answers 401 to every data route and stream without credentials, and sends the pages to the login", async () => {
    for (const path of [
      "/viz/api/statechart",
      "/viz/api/calls",
      "/viz/api/session",
      ...callRoutes(mine),
      ...callRoutes("CA00000000000000000000000000000000"),
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(await res.json(), path).toMatchObject({ error: expect.any(String) });
      expect(res.headers.get("www-authenticate"), path).toBeNull();
    }
    for (const path of ["/viz/api/calls/events", `/viz/api/calls/${mine}/events`]) {
      const s = await sse(path, {});
      expect(s.status, path).toBe(401);
    }
    // A wrong session cookie is no session.
    expect((await get("/viz/api/calls", { cookie: "sb_viz_session=forged" })).status).toBe(401);
    for (const path of ["/viz/", `/viz/calls/${mine}`]) {
      const res = await get(path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get("location")).toBe(`/viz/login?next=${encodeURIComponent(path)}`);
    }
    // The login page and the static files hold no data and are public.
    expect((await get("/viz/login")).status).toBe(200);
    expect((await get("/viz/assets/login.js")).status).toBe(200);
  });

  it("shows an account its own calls only; the other account's call is 404 in every route", async () => {
    const a = basic(stage.account);
    const b = basic(stage.other);
    expect(await listed(a)).toContain(mine);
    expect(await listed(a)).not.toContain(theirs);
    expect(await listed(b)).toEqual([theirs]);
    expect((await get("/viz/api/statechart", a)).status).toBe(200);
    for (const [own, other, creds] of [
      [mine, theirs, a],
      [theirs, mine, b],
    ] as const) {
      for (const path of callRoutes(own)) expect((await get(path, creds)).status, path).toBe(200);
      for (const path of callRoutes(other)) {
        const res = await get(path, creds);
        expect(res.status, path).toBe(404);
        // The same answer as for a call that does not exist.
        const unknown = await get(path.replace(other, "CA00000000000000000000000000000000"), creds);
        expect(await res.json()).toEqual({ error: `no inspection events for ${other}` });
        expect(unknown.status).toBe(404);
      }
      expect((await sse(`/viz/api/calls/${other}/events`, creds)).status).toBe(404);
      const view = await sse(`/viz/api/calls/${own}/events`, creds);
      expect(view.status).toBe(200);
      await view.waitFor((e) => e.event === "view");
    }
    // The same through the login form's session.
    const { cookie } = await logIn(stage.account.sid, stage.account.token);
    expect(await listed(cookie)).not.toContain(theirs);
    for (const path of callRoutes(theirs)) expect((await get(path, cookie)).status).toBe(404);
    for (const path of callRoutes(mine)) expect((await get(path, cookie)).status).toBe(200);
  });

  it("streams an account the list's changes for its own calls only", async () => {
    const { cookie } = await logIn(stage.account.sid, stage.account.token);
    const own = await sse("/viz/api/calls/events", cookie);
    const all = await sse("/viz/api/calls/events", operator());
    expect(names(own.events.filter((e) => e.event === "calls"))).not.toContain(theirs);
    // A new call of the other account's, seen (ended) by the operator's stream first…
    const next = (await stage.placeOthers()).callSid;
    const stored = (sid: string) => (e: SseEvent) =>
      ((e.data as { calls?: { callSid: string; live: boolean }[] }).calls ?? []).some(
        (c) => c.callSid === sid && !c.live,
      );
    await all.waitFor(stored(next));
    // …then one of the account's own: its stream shows it, and nothing of the other account's.
    const own2 = (await stage.placeFinishing()).callSid;
    await own.waitFor(stored(own2));
    await all.waitFor(stored(own2));
    expect(names(own.events)).toContain(own2);
    expect(names(own.events)).not.toContain(next);
    expect(names(own.events)).not.toContain(theirs);
    expect(names(all.events)).toEqual(expect.arrayContaining([next, own2]));
  });

  it("lets the operator see every account's calls, and nobody with a wrong operator token", async () => {
    expect(await listed(operator())).toEqual(expect.arrayContaining([mine, theirs]));
    for (const path of [...callRoutes(mine), ...callRoutes(theirs)]) {
      expect((await get(path, operator())).status, path).toBe(200);
    }
    const view = await sse(`/viz/api/calls/${theirs}/events`, operator());
    await view.waitFor((e) => e.event === "view");
    const wrong = `Basic ${Buffer.from("operator:not-the-operator-token").toString("base64")}`;
    expect((await get("/viz/api/calls", { authorization: wrong })).status).toBe(401);
    const { res, cookie } = await logIn("operator", OPERATOR_TOKEN);
    expect(await res.json()).toMatchObject({ user: "operator", operator: true });
    expect(await listed(cookie)).toEqual(expect.arrayContaining([mine, theirs]));
  });

  it("sets an HttpOnly, SameSite=Strict session cookie, Secure over https, and ends it at logout", async () => {
    const { res, setCookie, cookie } = await logIn(stage.account.sid, stage.account.token);
    expect(res.status).toBe(200);
    expect(setCookie).toMatch(/^sb_viz_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie.split("; ")).toEqual(
      expect.arrayContaining(["Path=/viz", "HttpOnly", "SameSite=Strict", "Max-Age=28800"]),
    );
    expect(setCookie).not.toContain("Secure");
    const behindTls = await logIn(stage.account.sid, stage.account.token, { "x-forwarded-proto": "https" });
    expect(behindTls.setCookie.split("; ")).toContain("Secure");

    // A form posted from another site cannot log a browser in.
    const cross = await logIn(stage.account.sid, stage.account.token, { origin: "https://evil.example" });
    expect(cross.res.status).toBe(403);
    expect(cross.setCookie).toBe("");

    // Logging out ends the session and the streams it opened.
    const list = await sse("/viz/api/calls/events", cookie);
    expect(list.status).toBe(200);
    const out = await fetch(`${stage.api.url}/viz/api/logout`, { method: "POST", headers: cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^sb_viz_session=; .*Max-Age=0/);
    await list.ended();
    expect((await get("/viz/api/calls", cookie)).status).toBe(401);
  });

  it("ends an account's sessions when its token changes", async () => {
    const { cookie } = await logIn(stage.other.sid, stage.other.token);
    expect((await get("/viz/api/calls", cookie)).status).toBe(200);
    const global = await openGlobalStores(stage.nc);
    const rotated = { sid: stage.other.sid, token: `${stage.other.token}x` };
    await addAccount(global, rotated);
    await expect
      .poll(async () => (await get("/viz/api/calls", cookie)).status, { timeout: 10_000 })
      .toBe(401);
    expect((await get("/viz/api/calls", basic(rotated))).status).toBe(200);
  });

  it("counts wrong tokens against the REST API's failed-login limiter", async () => {
    const wrong = { ...stage.account, token: "not-the-token" };
    clock.t += 61_000; // the earlier tests' failures (a wrong operator token) leave the window
    // Five failures through the form, five through Basic on /viz/api: ten in a minute.
    for (let i = 0; i < 5; i++) expect((await logIn(wrong.sid, wrong.token)).res.status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await get("/viz/api/calls", basic(wrong))).status).toBe(401);
    // Now blocked everywhere, even with the right token, and on the REST API too.
    const blocked = await logIn(stage.account.sid, stage.account.token);
    expect(blocked.res.status).toBe(429);
    expect(Number(blocked.res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await get("/viz/api/calls", basic(stage.account))).status).toBe(429);
    const rest = await get(`/2010-04-01/Accounts/${stage.account.sid}/Calls.json`, basic(stage.account));
    expect(rest.status).toBe(429);
    // A minute later the right token works again.
    clock.t += 61_000;
    expect((await logIn(stage.account.sid, stage.account.token)).res.status).toBe(200);
  });
});
