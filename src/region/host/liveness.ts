// The main thread's side of a worker's liveness: runs its heartbeat (heartbeats.ts) on a thread of
// its own when it knows how to connect one (`url`), else here; shows that thread the main thread's
// progress; and notices when the main thread itself did not run for longer than a peer waits before
// taking its calls (SIGSTOP, a starved VM). Then, before any call goes on (`gate`), the worker checks
// which of its calls are still its own (`onWake`): a call taken over meanwhile must not run on here.
import { Worker } from "node:worker_threads";
import type { KV } from "@nats-io/kv";
import type { Logger } from "../../log.js";
import { DEAD_AFTER_MS, Heartbeats } from "./heartbeats.js";

/** How often the main thread shows the heartbeat thread that it runs. */
const TICK_MS = 100;

export interface HeartbeatThreadData {
  url: string;
  name: string;
  bucket: string;
  worker: string;
  pid: number;
  /** An Int32 the main thread advances while it runs. */
  progress: SharedArrayBuffer;
}

export type FromHeartbeatThread =
  | { type: "dead" | "alive"; worker: string }
  | { type: "log"; obj: Record<string, unknown>; msg: string }
  | { type: "started" | "stopped" };

export interface ToHeartbeatThread {
  type: "stop";
  handOver: boolean;
}

export interface LivenessOptions {
  kv: KV;
  bucket: string;
  worker: string;
  log: Logger;
  /** The NATS URL the heartbeat thread connects with; without it the heartbeat runs on this thread. */
  url?: string;
}

export class Liveness {
  readonly #progress = new Int32Array(new SharedArrayBuffer(4));
  /** Workers found dead, and when. */
  readonly #dead = new Map<string, number>();
  #thread: Worker | undefined;
  #local: Heartbeats | undefined;
  #tick: NodeJS.Timeout | undefined;
  #lastTick = performance.now();
  /** Set while the calls' ownership is checked after a stall; what waits on it runs after. */
  #checking: Promise<void> | undefined;
  /** Called once for each other worker found dead, and again while it stays dead (a failed claim). */
  onDead: ((worker: string) => void) | undefined;
  /** Called after this thread did not run for DEAD_AFTER_MS: which calls are still ours? */
  onWake: (() => Promise<void>) | undefined;

  constructor(private readonly o: LivenessOptions) {}

  async start(): Promise<void> {
    this.#tick = setInterval(() => this.#ticked(), TICK_MS);
    if (this.o.url) await this.#startThread(this.o.url);
    else await this.#startLocal();
  }

  /** Whether `worker` was found dead (its calls are being claimed). */
  isDead(worker: string): boolean {
    return this.#dead.has(worker);
  }

  /**
   * Runs `fn` now, or, when this thread has just woken from a stall, once the calls' ownership is
   * checked: a timer due during the stall must not move a call another worker has taken meanwhile.
   */
  gate(fn: () => void): void {
    if (performance.now() - this.#lastTick > DEAD_AFTER_MS) this.#ticked();
    if (this.#checking) void this.#checking.then(fn);
    else fn();
  }

  async stop(handOver: boolean): Promise<void> {
    clearInterval(this.#tick);
    if (this.#local) await this.#local.stop(handOver);
    const thread = this.#thread;
    if (!thread) return;
    const stopped = new Promise<void>((resolve) => {
      thread.on("message", (m: FromHeartbeatThread) => m.type === "stopped" && resolve());
      thread.once("exit", () => resolve());
    });
    thread.postMessage({ type: "stop", handOver } satisfies ToHeartbeatThread);
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 5_000))]);
    await thread.terminate();
  }

  #ticked(): void {
    const now = performance.now();
    const gap = now - this.#lastTick;
    this.#lastTick = now;
    Atomics.add(this.#progress, 0, 1);
    if (gap <= DEAD_AFTER_MS || this.#checking || !this.onWake) return;
    this.o.log.warn(
      { stalledMs: Math.round(gap) },
      "this worker did not run for a while; checking its calls are still its own",
    );
    const check = this.onWake;
    this.#checking = (async () => {
      // Retried for a while (nats-server may be the reason); the notices of claims stop the rest.
      for (let i = 0; i < 10; i++) {
        try {
          return await check();
        } catch (err) {
          this.o.log.warn({ err }, "cannot check this worker's calls; retrying");
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    })().finally(() => {
      this.#checking = undefined;
    });
  }

  #died(worker: string): void {
    if (!this.#dead.has(worker)) this.#dead.set(worker, Date.now());
    this.onDead?.(worker);
  }

  async #startLocal(): Promise<void> {
    this.#local = new Heartbeats(this.o.kv, this.o.worker, {
      progress: () => Atomics.load(this.#progress, 0),
      onDead: (w) => this.#died(w),
      onAlive: (w) => this.#dead.delete(w),
      log: this.o.log,
      pid: process.pid,
    });
    await this.#local.start();
  }

  async #startThread(url: string): Promise<void> {
    const data: HeartbeatThreadData = {
      url,
      name: `switchboard-heartbeat-${this.o.worker}`,
      bucket: this.o.bucket,
      worker: this.o.worker,
      pid: process.pid,
      progress: this.#progress.buffer as SharedArrayBuffer,
    };
    const thread = new Worker(new URL("./heartbeat-thread.js", import.meta.url), { workerData: data });
    this.#thread = thread;
    await new Promise<void>((resolve, reject) => {
      thread.on("message", (m: FromHeartbeatThread) => {
        if (m.type === "started") resolve();
        else if (m.type === "dead") this.#died(m.worker);
        else if (m.type === "alive") this.#dead.delete(m.worker);
        else if (m.type === "log") this.o.log.warn(m.obj, m.msg);
      });
      thread.once("error", reject);
      thread.once("exit", (code) => reject(new Error(`heartbeat thread exited (${code})`)));
    });
    // Past its start, a thread that fails leaves the worker without a beat: its calls go to others.
    thread.on("error", (err) =>
      this.o.log.error({ err }, "heartbeat thread failed; this worker's calls go to others"),
    );
    thread.unref();
  }
}
