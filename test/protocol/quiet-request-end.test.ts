// Issue #20: an answered NATS request builds no error (nats-core 3.4 rejects the resolved promise of
// every answered request with a new RequestError, stack and all); failed requests still fail as before.
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "../../src/protocol/connect.js";
import { type NatsServer, startTestNatsServer } from "../helpers/nats-server.js";

let nats: NatsServer;
let nc: NatsConnection;
/** Every rejection of a request's promise, answered or not. */
const rejections: unknown[] = [];

beforeAll(async () => {
  nats = await startTestNatsServer({ jetstream: false });
  nc = await connectNats(nats.url, "quiet-request-end-test", 5_000);
  // Watches each request's own promise (nats-core's RequestOne.deferred) as the client registers it.
  const proto = (nc as unknown as { protocol: { request(r: object): unknown } }).protocol;
  const register = proto.request.bind(proto);
  proto.request = (r: object) => {
    const deferred = (r as { deferred?: { reject(err: unknown): void } }).deferred;
    if (deferred) {
      const reject = deferred.reject.bind(deferred);
      deferred.reject = (err) => {
        rejections.push(err);
        reject(err);
      };
    }
    return register(r);
  };
  nc.subscribe("echo", {
    callback: (_err, msg) => {
      msg.respond(msg.data);
    },
  });
  await nc.flush();
});

afterAll(async () => {
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
});

describe("answered requests", () => {
  it("resolve with their reply and reject nothing", async () => {
    rejections.length = 0;
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => nc.request("echo", new TextEncoder().encode(`#${i}`))),
    );
    expect(replies.map((m) => m.string())).toEqual(Array.from({ length: 50 }, (_, i) => `#${i}`));
    expect(rejections).toEqual([]);
  });

  it("still fail with their error when nobody answers, or too late", async () => {
    await expect(nc.request("nobody.here", undefined, { timeout: 1_000 })).rejects.toThrow(/no responders/i);
    nc.subscribe("silent", { callback: () => {} });
    await nc.flush();
    await expect(nc.request("silent", undefined, { timeout: 200 })).rejects.toThrow(/timeout/i);
  });
});
