// The WebhookClient owns its pools: closing one (a worker stopping) leaves another's (a second
// worker of `up`) working, and a closed client sends nothing more.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { WebhookClient } from "../../src/webhook/client.js";

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/xml" }).end("<Response/>"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/voice`;
});
afterAll(() => new Promise((r) => server.close(r)));

const post = (web: WebhookClient) =>
  web.request({ url, method: "POST", params: {}, authToken: "token-123456" });

describe("WebhookClient", () => {
  it("closing one client leaves another working", async () => {
    const a = new WebhookClient();
    const b = new WebhookClient();
    try {
      await Promise.all([post(a), post(b)]);
      await a.close();
      expect((await post(b)).status).toBe(200);
      const err = await post(a).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect(() => a.dispatcher()).toThrow(/closed/);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
