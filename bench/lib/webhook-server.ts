// The customer's webhook for the benches: a plain node:http server on loopback that answers every
// request with the same TwiML. With `onRequest` it also reads the CallSid, to time offer → webhook.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookServer {
  url: string;
  requests: number;
  /** Called once per request with the CallSid and when the request arrived (`performance.now()`). */
  onRequest: ((callSid: string, at: number) => void) | undefined;
  /** Called as each request arrives, before its body is read. */
  onArrival: (() => void) | undefined;
  close(): Promise<void>;
}

export async function startWebhookServer(twiml: string): Promise<WebhookServer> {
  const body = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${twiml}`);
  const headers = { "Content-Type": "text/xml", "Content-Length": String(body.length) };
  const state: WebhookServer = {
    url: "",
    requests: 0,
    onRequest: undefined,
    onArrival: undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const at = performance.now();
    state.requests++;
    state.onArrival?.();
    const onRequest = state.onRequest;
    if (!onRequest) {
      req.resume();
      req.on("end", () => res.writeHead(200, headers).end(body));
      return;
    }
    let form = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      form += chunk;
    });
    req.on("end", () => {
      res.writeHead(200, headers).end(body);
      const callSid = new URLSearchParams(form).get("CallSid");
      if (callSid) onRequest(callSid, at);
    });
  });
  // As nginx and most app servers do (Node's 5 s is the short exception): a worker busy for seconds
  // must not find its pooled sockets closed under it (undici stops reusing them 2 s before the hint).
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/voice`;
  return state;
}
