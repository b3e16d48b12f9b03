// A local, always-current copy of a small KV bucket (the routing table, the accounts), kept by a
// watch so the hot path reads a Map instead of asking JetStream.
import type { KV } from "@nats-io/kv";
import { JsonKv } from "./json-kv.js";

export class WatchedKv<T> {
  readonly #values = new Map<string, T>();
  #stop: (() => void) | undefined;
  /** Called after each change, with the key and its new value (undefined when deleted). */
  onChange: ((key: string, value: T | undefined) => void) | undefined;
  /** Values seen that were not JSON (skipped). */
  undecodable = 0;

  private constructor() {}

  /** Resolves once every value present at start has been read. */
  static async start<T>(kv: KV): Promise<WatchedKv<T>> {
    const cache = new WatchedKv<T>();
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => {
      initialized = resolve;
    });
    // The watch first replays the last value of every key; `delta` counts what is left of that
    // replay, so delta 0 (or a live update) means the copy is complete. An empty bucket replays nothing.
    if ((await kv.status()).values === 0) initialized();
    const watch = await kv.watch();
    cache.#stop = () => watch.stop();
    (async () => {
      for await (const e of watch) {
        let value: T | undefined;
        try {
          value = JsonKv.decode<T>(e);
        } catch {
          // A value someone wrote by hand that is not JSON must not end the watch.
          cache.undecodable++;
        }
        if (value === undefined) cache.#values.delete(e.key);
        else cache.#values.set(e.key, value);
        if (e.isUpdate || !e.delta) initialized();
        cache.onChange?.(e.key, value);
      }
    })().catch(() => {
      // The watch ends when the connection closes; the process is shutting down then.
    });
    await ready;
    return cache;
  }

  get(key: string): T | undefined {
    return this.#values.get(key);
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** Every key and its value, in the order first seen. */
  entries(): IterableIterator<[string, T]> {
    return this.#values.entries();
  }

  get size(): number {
    return this.#values.size;
  }

  stop(): void {
    this.#stop?.();
  }
}
