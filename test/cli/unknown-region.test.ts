// A region that does not exist (no worker ever ran there, so no call stream): the admin commands
// refuse it as the REST API does (20422), and a call sent there says so instead of blaming JetStream.
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { startTestNatsServer } from "../helpers/nats-server.js";

describe("a region with no call stream", () => {
  it("is refused by numbers add and numbers route with 20422, naming the fix", async () => {
    await using nats = await startTestNatsServer();
    const natsFlag = ["--nats", nats.url];
    const add = await runCli([
      "numbers",
      "add",
      "+15551239001",
      "--region",
      "zz9",
      "--voice-url",
      "https://example.com/voice",
      ...natsFlag,
    ]);
    expect(add.code).toBe(1);
    expect(add.stderr).toBe(
      "error 20422: region zz9 has no call stream: no region worker has run there (start `switchboard region --region zz9` first)\n",
    );
    const route = await runCli(["numbers", "route", "+15551239001", "xx9", ...natsFlag]);
    expect(route.code).toBe(1);
    expect(route.stderr).toMatch(/^error 20422: region xx9 has no call stream/);
  });

  it("fails a call sent there with 90003 that says the stream is missing", async () => {
    await using nats = await startTestNatsServer();
    await using edge = startCli(["edge", "--edge", "ashburn", "--nats", nats.url]);
    await edge.waitForLog("ready");
    const call = await runCli(["call", "--to", "+15551239001", "--from", "+15557654321", "--nats", nats.url]);
    expect(call.code).toBe(1);
    expect(call.stderr).toMatch(/^error 90003: region us1 did not store the call: it has no call stream/);
    expect(call.stderr).not.toMatch(/jetstream is not enabled/);
  });
});
