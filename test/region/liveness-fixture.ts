// What the liveness tests share (issue #16 items 3–5): an engine whose region runs as worker
// processes (so they can be stopped, killed and starved), an app that counts every request per
// call, and a watch on what the region publishes — each call's resumes and Pauses, and each
// worker's heartbeat gaps as another process sees them.

import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { expect } from "vitest";
import type { PlacedCall } from "../../src/caller/place-call.js";
import { inspectEnvelopes } from "../../src/protocol/inspect.js";
import { openRegionStores } from "../../src/store/region.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { setUp } from "../helpers/teardown.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

export const PAUSE_NUMBER = "+15558100001";
/** How long SIGUSR2 blocks a blockable worker's main thread: twice the death threshold. */
export const BLOCK_MS = 3_000;
const BLOCKER = fileURLToPath(new URL("./fixtures/block-main-thread.cjs", import.meta.url));
export const HOSTILE_NUMBER = "+15558100002";

/** A document that costs its parser about half a second: one Say with 5,000 unknown attributes. */
export function hostileDocument(): string {
  const attrs = Array.from({ length: 5_000 }, (_, i) => `x${i}="v"`).join(" ");
  return `<?xml version="1.0"?><Response><Say ${attrs}>Hi</Say><Pause length="1"/></Response>`;
}

/** Per call: how often it was resumed and how often a Pause started (every copy publishes). */
export interface Seen {
  resumed: number;
  pauses: number;
}

export interface LivenessFixture extends AsyncDisposable {
  engine: TestEngine;
  app: TwilioApp;
  actors: KV;
  /** A worker process of region us1; `blockable`: SIGUSR2 blocks its main thread (fixtures/block-main-thread.cjs). */
  worker(opts?: { blockable?: boolean }): CliProcess;
  /** Places `n` real-time calls to `to` at once. */
  place(n: number, to: string): { sids: Promise<string[]>; ended: Promise<PlacedCall[]> };
  seen(callSid: string): Seen;
  /** The largest gap between two heartbeats of any worker, as this process saw them (ms). */
  maxHeartbeatGapMs(): number;
  /** Resolves once each call has a stored snapshot (a resume then starts from it, not afresh). */
  snapshotsStored(sids: string[]): Promise<void>;
  /** The worker whose lease names each call. */
  owners(sids: string[]): Promise<Map<string, string>>;
  /** Asserts each call ran once: completed, one record, its document and its end reported once. */
  expectRanOnce(placed: PlacedCall[]): Promise<void>;
}

export function startLivenessFixture(pauseSeconds: number): Promise<LivenessFixture> {
  return setUp(async (t) => {
    const engine = t.use(await startTestEngine({ worker: false }));
    const app = t.use(
      await startTwilioApp(engine.authToken, {
        "/pause": () => {
          const r = new VoiceResponse();
          r.pause({ length: pauseSeconds });
          return { body: r.toString() };
        },
        "/hostile": () => ({ body: hostileDocument() }),
        "/status": () => ({ status: 204, body: "" }),
      }),
    );
    for (const [number, path] of [
      [PAUSE_NUMBER, "/pause"],
      [HOSTILE_NUMBER, "/hostile"],
    ] as const)
      await engine.addNumber({ number, voiceUrl: `${app.url}${path}`, statusCallback: `${app.url}/status` });
    const nc = engine.nc;
    // The bucket as the workers open it (the engine has none: its region runs in processes).
    const actors = (await openRegionStores(nc, "us1")).actors.kv;

    const seen = new Map<string, Seen>();
    const of = (sid: string) => {
      const s = seen.get(sid) ?? { resumed: 0, pauses: 0 };
      seen.set(sid, s);
      return s;
    };
    const sub = t.add(
      nc.subscribe("sb.region.us1.inspect.>", {
        callback: (_err, msg) => {
          for (const e of inspectEnvelopes(msg.data)) {
            if (e.type === "resumed") of(e.callSid).resumed++;
            if (e.type === "channel" && e.command.kind === "pause") of(e.callSid).pauses++;
          }
        },
      }),
      (s) => s.unsubscribe(),
    );
    void sub;
    const lastBeat = new Map<string, number>();
    let maxGap = 0;
    const beats = t.add(await actors.watch({ key: "_w.>" }), (w) => w.stop());
    void (async () => {
      for await (const e of beats) {
        if (e.operation !== "PUT") continue;
        const prev = lastBeat.get(e.key);
        if (prev !== undefined) maxGap = Math.max(maxGap, performance.now() - prev);
        lastBeat.set(e.key, performance.now());
      }
    })().catch(() => {});

    const workers: CliProcess[] = [];
    t.defer(() => Promise.all(workers.map((w) => w.stop())));
    return {
      engine,
      app,
      actors,
      worker: (opts = {}) => {
        const w = startCli(
          ["region", "--region", "us1", "--allow-egress", "127.0.0.0/8", "--nats", engine.nats.url],
          opts.blockable ? { NODE_OPTIONS: `--require ${BLOCKER}`, SB_TEST_BLOCK_MS: String(BLOCK_MS) } : {},
        );
        workers.push(w);
        return w;
      },
      place: (n, to) => {
        const sids: Promise<string>[] = [];
        const ended = Array.from({ length: n }, () => {
          let offered!: (sid: string) => void;
          sids.push(new Promise((r) => (offered = r)));
          return engine.call({
            to,
            caller: { timeScale: 1 },
            timeoutMs: 50_000,
            onProgress: (p) => p.source === "offered" && offered(p.callSid),
          });
        });
        return { sids: Promise.all(sids), ended: Promise.all(ended) };
      },
      seen: (sid) => of(sid),
      maxHeartbeatGapMs: () => Math.round(maxGap),
      snapshotsStored: async (sids) => {
        const waiting = new Set(sids);
        const watch = await actors.watch({ key: ">" });
        for await (const e of watch) {
          if (e.operation === "PUT") waiting.delete(e.key);
          if (waiting.size === 0) break;
        }
        watch.stop();
      },
      owners: async (sids) => {
        const owners = new Map<string, string>();
        const wanted = new Set(sids);
        for await (const key of await actors.keys("_o.>")) {
          const [, owner = "", sid = ""] = key.split(".");
          if (wanted.has(sid)) owners.set(sid, owner);
        }
        return owners;
      },
      expectRanOnce: async (placed) => {
        const jsm = await jetstreamManager(nc);
        // A status callback leaves after the record: wait for each, then count them.
        await Promise.all(
          placed.map((p) =>
            app
              .waitFor((r) => r.path === "/status" && r.params.CallSid === p.callSid, 30_000)
              .catch(() => {
                throw new Error(`no status callback for ${p.callSid} (${p.call.status}, ${p.call.to})`);
              }),
          ),
        );
        for (const p of placed) {
          expect(p.call.status, p.callSid).toBe("completed");
          const subject = `$KV.sb_calls_us1.${p.callSid}`;
          const info = await jsm.streams.info("KV_sb_calls_us1", { subjects_filter: subject });
          expect(info.state.subjects?.[subject], `record writes of ${p.callSid}`).toBe(1);
          const mine = app.requests.filter((r) => r.params.CallSid === p.callSid);
          expect(
            mine.filter((r) => r.path !== "/status"),
            `document requests of ${p.callSid}`,
          ).toHaveLength(1);
          const completed = mine.filter((r) => r.path === "/status" && r.params.CallStatus === "completed");
          expect(completed, `completed callbacks of ${p.callSid}`).toHaveLength(1);
        }
      },
      [Symbol.asyncDispose]: () => t.stop(),
    };
  });
}
