// A worker's heartbeat thread keeps beating while the main thread is busy, but not for ever: a main
// thread that makes no progress for the wedged bound loses its calls (issue #16 item 4). Two
// Heartbeats on a real nats-server; the main thread's progress is the counter each is given.
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { Heartbeats, type HeartbeatsOptions } from "../../src/region/host/heartbeats.js";
import { startTestNatsServer } from "../helpers/nats-server.js";
import { setUp } from "../helpers/teardown.js";

const WEDGED_MS = 1_000;

function heartbeatsOn() {
  return setUp(async (t) => {
    const nats = t.use(await startTestNatsServer());
    const nc = t.add(await connect({ servers: nats.url }), (c) => c.close());
    const kv = await new Kvm(nc).create("sb_actors_test");
    const events: string[] = [];
    const start = async (worker: string, progress: () => number) => {
      const o: HeartbeatsOptions = {
        progress,
        onDead: (w) => events.push(`${worker} found ${w} dead`),
        onAlive: (w) => events.push(`${worker} found ${w} alive`),
        log: { warn: (_obj, msg) => events.push(`${worker}: ${msg}`) },
        pid: 0,
        wedgedMs: WEDGED_MS,
      };
      const beats = new Heartbeats(kv, worker, o);
      t.defer(() => beats.stop(false));
      await beats.start();
      return beats;
    };
    /** Resolves once `event` happened, or rejects after `ms`. */
    const happened = (event: string, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!events.includes(event)) return;
          clearInterval(timer);
          resolve();
        };
        const timer = setInterval(check, 50);
        setTimeout(() => {
          clearInterval(timer);
          reject(new Error(`not within ${ms} ms: ${event}; saw ${JSON.stringify(events)}`));
        }, ms);
      });
    return { start, happened, events, [Symbol.asyncDispose]: () => t.stop() };
  });
}

describe("heartbeats", () => {
  it("stop when the main thread makes no progress for the wedged bound, and start again when it does", async () => {
    await using h = await heartbeatsOn();
    let progress = 0;
    let wedged = false;
    const tick = setInterval(() => {
      if (!wedged) progress++;
    }, 100);
    try {
      await h.start("a", () => progress);
      await h.start("b", () => Date.now()); // b's main thread always runs
      wedged = true;
      const since = Date.now();
      await h.happened("a: main thread is wedged; not beating, so others take its calls");
      await h.happened("b found a dead");
      // Not before the wedged bound.
      expect(Date.now() - since).toBeGreaterThanOrEqual(WEDGED_MS);
      wedged = false;
      await h.happened("a: main thread runs again; beating");
      await h.happened("b found a alive");
      expect(h.events.filter((e) => e === "a found b dead")).toEqual([]);
    } finally {
      clearInterval(tick);
    }
  });
});
