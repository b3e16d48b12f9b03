// A KV bucket as a worker that dies after some writes leaves it: the first `writes` writes (put,
// create, update, delete, purge; counted across every bucket given the same budget) are stored, every
// later one fails. Reads go on. For tests of what a death between two writes leaves behind.
import type { KV } from "@nats-io/kv";

const WRITES = new Set(["put", "create", "update", "delete", "purge"]);

/** A write budget shared by the buckets it wraps. */
export function dyingAfter(writes: number): (kv: KV) => KV {
  let left = writes;
  return (kv) =>
    new Proxy(kv, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        if (!WRITES.has(String(prop))) return value.bind(target);
        return (...args: unknown[]) =>
          left-- > 0 ? value.apply(target, args) : Promise.reject(new Error("the worker died"));
      },
    });
}
