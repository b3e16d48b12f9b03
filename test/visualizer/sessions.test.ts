// The visualizer's login sessions: they expire, end when their credentials stop holding, end the
// streams they opened, and stay bounded in number.
import { afterEach, describe, expect, it } from "vitest";
import { Sessions } from "../../src/visualizer/server/sessions.js";

const account = {
  user: "AC00000000000000000000000000000001",
  accountSid: "AC00000000000000000000000000000001",
};
const opened: Sessions[] = [];
const sessions = (opts: ConstructorParameters<typeof Sessions>[0] = {}) => {
  const s = new Sessions(opts);
  opened.push(s);
  return s;
};

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

describe("Sessions", () => {
  it("ends a session when it expires, and runs what was waiting for its end", () => {
    let now = 1_000;
    const store = sessions({ ttlMs: 60_000, now: () => now });
    const session = store.open(account, () => true);
    let ended = 0;
    store.onEnd(session.id, () => ended++);
    now += 59_999;
    expect(store.get(session.id)?.viewer).toEqual(account);
    now += 1;
    expect(store.get(session.id)).toBeUndefined();
    expect(ended).toBe(1);
    expect(store.size).toBe(0);
  });

  it("ends a session whose credentials no longer hold", () => {
    let valid = true;
    const store = sessions();
    const session = store.open(account, () => valid);
    expect(store.get(session.id)).toBeDefined();
    valid = false;
    expect(store.get(session.id)).toBeUndefined();
    valid = true;
    expect(store.get(session.id)).toBeUndefined();
  });

  it("gives unguessable ids and knows none it did not give", () => {
    const store = sessions();
    const a = store.open(account, () => true);
    const b = store.open(account, () => true);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(store.get(undefined)).toBeUndefined();
    expect(store.get(`${a.id}x`)).toBeUndefined();
  });

  it("keeps at most 10 000 sessions, dropping the oldest", () => {
    const store = sessions();
    const first = store.open(account, () => true);
    for (let i = 0; i < 10_000; i++) store.open(account, () => true);
    expect(store.size).toBe(10_000);
    expect(store.get(first.id)).toBeUndefined();
  });
});
