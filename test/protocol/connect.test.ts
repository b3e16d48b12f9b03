// `--nats nats://user:pass@host:port` must log in: the client itself ignores URL user info. Several
// seeds, separated by commas, let a process start while one seed server is down.
import { describe, expect, it } from "vitest";
import { connectNats, natsServerAndCredentials } from "../../src/protocol/connect.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

/** Nothing listens on port 1: a seed that refuses at once. */
const DOWN = "nats://127.0.0.1:1";

describe("connectNats", () => {
  it("splits credentials out of the URL, decoded", () => {
    expect(natsServerAndCredentials("nats://region-us1:p%40ss@127.0.0.1:7422")).toEqual({
      servers: "nats://127.0.0.1:7422",
      user: "region-us1",
      pass: "p@ss",
    });
    expect(natsServerAndCredentials("nats://127.0.0.1:7422")).toEqual({ servers: "nats://127.0.0.1:7422" });
  });

  it("takes several seeds separated by commas, with one login written on one URL or on each", () => {
    expect(natsServerAndCredentials("nats://a:7422, nats://u:p@b:7422,")).toEqual({
      servers: ["nats://a:7422", "nats://b:7422"],
      user: "u",
      pass: "p",
    });
    expect(natsServerAndCredentials("nats://u:p@a:7422,nats://u:p@b:7422")).toMatchObject({
      servers: ["nats://a:7422", "nats://b:7422"],
      user: "u",
    });
    // One seed and a stray comma: still one seed, logged in.
    expect(natsServerAndCredentials("nats://u:p@a:7422,")).toEqual({
      servers: "nats://a:7422",
      user: "u",
      pass: "p",
    });
    expect(() => natsServerAndCredentials("nats://u:p@a:7422,nats://v:p@b:7422")).toThrow(/different users/);
    expect(() => natsServerAndCredentials("nats://u:p@a:7422,nats://u:q@b:7422")).toThrow(/different users/);
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

  it("connects through the next seed when the first is down, logging in there", async () => {
    await using nats = await startTestNatsServer({
      jetstream: false,
      extraConfig: 'authorization { users: [ { user: "edge", password: "pw" } ] }',
    });
    const url = new URL(nats.url);
    const nc = await connectNats(`${DOWN},nats://edge:pw@${url.host}`, "test", 2_000);
    expect(nc.info?.port).toBe(Number(url.port));
    await nc.close();
    await expect(connectNats(`${DOWN},${DOWN.replace(":1", ":2")}`, "test", 300)).rejects.toThrow(
      /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1, nats:\/\/127\.0\.0\.1:2/,
    );
  });
});
