// Compare-and-set on one KV key: read, change, write only if nobody wrote in between, else read again.
// Conferences and queues are shared by calls on every worker of a region; this is how their joins,
// leaves and dequeues stay safe when they race.
import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";

export interface Versioned<T> {
  readonly value: T | undefined;
  /** 0 when the key has no value (never written, or deleted). */
  readonly revision: number;
}

export async function readVersioned<T>(kv: KV, key: string): Promise<Versioned<T>> {
  const e = await kv.get(key);
  if (e?.operation !== "PUT" || e.length === 0) return { value: undefined, revision: 0 };
  return { value: e.json() as T, revision: e.revision };
}

/**
 * Applies `change` to the key's current value and writes the result only if the key is unchanged
 * since it was read; on a conflict it reads and applies again. `change` returns the new value (or
 * `undefined` to write nothing) and a result for the caller; it must be pure, as it may run more
 * than once.
 */
export async function mutate<T, R>(
  kv: KV,
  key: string,
  change: (current: T | undefined) => { value: T | undefined; result: R },
): Promise<{ result: R; value: T | undefined; revision: number }> {
  for (let attempt = 0; ; attempt++) {
    const current = await readVersioned<T>(kv, key);
    const { value, result } = change(current.value);
    if (value === undefined) return { result, value: current.value, revision: current.revision };
    const data = JSON.stringify(value);
    try {
      const revision =
        current.revision === 0 ? await kv.create(key, data) : await kv.update(key, data, current.revision);
      return { result, value, revision };
    } catch (err) {
      if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      // Many writers on one key (a full conference joining at once): back off a little, at random,
      // so they stop colliding in lockstep.
      if (attempt >= 3) await new Promise((r) => setTimeout(r, Math.random() * Math.min(25, attempt * 2)));
    }
  }
}

/** A change that still conflicts after this many tries fails (the key is written faster than read). */
const MAX_ATTEMPTS = 500;

/** Deletes the key only while it is at `revision`; false when it moved on (someone wrote since). */
export async function deleteAt(kv: KV, key: string, revision: number): Promise<boolean> {
  try {
    await kv.delete(key, { previousSeq: revision });
    return true;
  } catch (err) {
    if (isConflict(err)) return false;
    throw err;
  }
}

function isConflict(err: unknown): boolean {
  return /wrong last sequence|key exists/i.test(String((err as Error)?.message ?? err));
}

/**
 * The keys matching a subject filter; none when the bucket does not exist (yet). Read from the
 * stream's subject list in one request, not with `kv.keys()`: its consumer waits for a count of
 * pending messages that a concurrent write to a history-1 key can make unreachable, and hangs.
 */
export async function listKeysOf(kv: KV, filter: string): Promise<string[]> {
  const bucket = kv as unknown as { jsm: JetStreamManager; stream: string; prefix: string };
  try {
    const info = await bucket.jsm.streams.info(bucket.stream, {
      subjects_filter: `${bucket.prefix}.${filter}`,
    });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(bucket.prefix.length + 1));
  } catch (err) {
    const e = err as { code?: number; message?: string };
    if (e?.code === 10059 || /stream not found/i.test(String(e?.message))) return [];
    throw err;
  }
}
