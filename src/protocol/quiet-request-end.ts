// A nats.js request that is answered should cost no Error. nats-core 3.4's `RequestOne.resolver`
// resolves the request and then calls `cancel()`, which rejects the (already resolved) promise with a
// `new RequestError("cancelled")`: an Error with a captured stack, built for nothing, on every answered
// request — 15 % of the edge's busy time and ~2 % of a region worker's (issue #20, BENCH_PROFILE),
// since every KV write and JetStream publish is a request.
import type { NatsConnection } from "@nats-io/transport-node";

/** The part of nats-core's (internal) request that this relies on; checked before use. */
interface RequestOne {
  resolver(err: Error | null, msg: unknown): void;
  cancel(err?: Error): void;
  timer?: { cancel(): void };
  mux: { cancel(r: unknown): void };
}

const answered = Symbol("answered");
type Tracked = RequestOne & { [answered]?: boolean };
const patched = new WeakSet<object>();

/**
 * Makes `nc`'s answered requests end without building an error. The request class is reached through
 * the first request the connection makes (nats-core does not export it publicly). Does nothing if the
 * internals are not the expected shape: a nats.js upgrade can only lose the saving, never a reply.
 */
export function quietRequestEnd(nc: NatsConnection): void {
  const proto = (nc as unknown as { protocol?: { request?: (r: object) => unknown } }).protocol;
  if (typeof proto?.request !== "function") return;
  const register = proto.request.bind(proto);
  proto.request = (r: object) => {
    patchClass(Object.getPrototypeOf(r) as Partial<RequestOne>);
    return register(r);
  };
}

function patchClass(p: Partial<RequestOne>): void {
  if (patched.has(p)) return;
  patched.add(p);
  const { resolver, cancel } = p;
  if (typeof resolver !== "function" || typeof cancel !== "function") return;
  p.resolver = function (this: Tracked, err, msg) {
    if (!err) this[answered] = true;
    resolver.call(this, err, msg);
  };
  // What the original does, less the rejection of a promise that is resolved already.
  p.cancel = function (this: Tracked, err) {
    if (err !== undefined || !this[answered] || typeof this.mux?.cancel !== "function") {
      cancel.call(this, err);
      return;
    }
    this.timer?.cancel();
    this.mux.cancel(this);
  };
}
