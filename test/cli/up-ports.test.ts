// `switchboard up` on a port something else holds: one line naming the port and the flag that
// avoids it, exit 1, instead of "nats-server exited before it was ready (code 1…)".
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

async function holdPort(): Promise<{ server: Server; port: number } & AsyncDisposable> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return { server, port, [Symbol.asyncDispose]: () => new Promise((r) => server.close(() => r())) };
}

describe("switchboard up on a port in use", () => {
  it("names its nats-server's port and --nats-port", async () => {
    await using held = await holdPort();
    const r = await runCli(["up", "--nats-port", String(held.port), "--port", "0"], { NATS_URL: "" });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^switchboard up: port ${held.port} \\(its nats-server's client port\\) is already in use: .*--nats-port`,
      ),
    );
  });

  it("names the api's port and --port", async () => {
    await using held = await holdPort();
    const r = await runCli(["up", "--nats-port", "-1", "--port", String(held.port)], { NATS_URL: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^switchboard up: port ${held.port} \\(the api\\) is already in use: .*--port N`),
    );
  });
});
