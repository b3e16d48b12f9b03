// `--nats nats://user:pass@host:port` must log in: the client itself ignores URL user info.
import { describe, expect, it } from "vitest";
import { connectNats, natsServerAndCredentials } from "../../src/protocol/connect.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

describe("connectNats", () => {
  it("splits credentials out of the URL, decoded", () => {
    expect(natsServerAndCredentials("nats://region-us1:p%40ss@127.0.0.1:7422")).toEqual({
      servers: "nats://127.0.0.1:7422",
      user: "region-us1",
      pass: "p@ss",
    });
    expect(natsServerAndCredentials("nats://127.0.0.1:7422")).toEqual({ servers: "nats://127.0.0.1:7422" });
  });

  it("logs in to a server that requires users with credentials given in the URL", async () => {
    await using nats = await startTestNatsServer({
      jetstream: false,
      extraConfig: 'authorization { users: [ { user: "edge", password: "s3cret!" } ] }',
    });
    const url = new URL(nats.url);
    const nc = await connectNats(`nats://edge:${encodeURIComponent("s3cret!")}@${url.host}`, "test", 2_000);
    expect(nc.info?.server_id).toBeTruthy();
    await nc.close();
    await expect(connectNats(`nats://edge:wrong@${url.host}`, "test", 500)).rejects.toThrow(/cannot connect/);
  });
});
