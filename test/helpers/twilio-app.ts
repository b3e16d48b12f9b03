// A customer's webhook app, as a Twilio developer writes it: a plain HTTP server that rejects any
// request whose X-Twilio-Signature the official `twilio` package does not accept — both its
// `validateRequest` and its `webhook()` middleware (given an Express-shaped request) must pass —
// and answers with TwiML built by `twilio.twiml.VoiceResponse`.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";

export interface ReceivedRequest {
  method: string;
  path: string;
  /** The path and query string as requested. */
  url: string;
  params: Record<string, string>;
  headers: IncomingMessage["headers"];
  signatureValid: boolean;
  at: number;
}

export interface Answer {
  status?: number;
  contentType?: string;
  /** More response headers (Set-Cookie, a redirect's Location). */
  headers?: Record<string, string>;
  body: string;
}
/** Answers a request; a promise lets a test hold the answer back (a slow or hung app). */
export type Route = (req: ReceivedRequest) => Answer | Promise<Answer>;

export interface TwilioApp extends AsyncDisposable {
  url: string;
  requests: ReceivedRequest[];
  /** Resolves once `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Resolves with the first request (already received or still to come) that matches. */
  waitFor(match: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

export async function startTwilioApp(authToken: string, routes: Record<string, Route>): Promise<TwilioApp> {
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const params = Object.fromEntries(new URLSearchParams(req.method === "GET" ? url.search : body));
    const byFunction = twilio.validateRequest(
      authToken,
      String(req.headers["x-twilio-signature"] ?? ""),
      req.method === "GET" ? url.toString() : `http://${req.headers.host}${url.pathname}${url.search}`,
      req.method === "GET" ? {} : params,
    );
    const signatureValid = byFunction && passesMiddleware(authToken, req, req.method === "GET" ? {} : params);
    const received: ReceivedRequest = {
      method: req.method ?? "",
      path: url.pathname,
      url: `${url.pathname}${url.search}`,
      params,
      headers: req.headers,
      signatureValid,
      at: Date.now(),
    };
    requests.push(received);
    for (const w of waiters) w();
    if (!signatureValid) {
      res.writeHead(403, { "Content-Type": "text/plain" }).end("Twilio Request Validation Failed.");
      return;
    }
    const route = routes[url.pathname];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const answer = await route(received);
    res
      .writeHead(answer.status ?? 200, {
        "Content-Type": answer.contentType ?? "text/xml",
        ...answer.headers,
      })
      .end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitForRequests: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests.slice(0, count));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${requests.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    waitFor: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = requests.find(match);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

export const VoiceResponse = twilio.twiml.VoiceResponse;

/** Runs twilio.webhook() as Express would, on a plain node:http request. */
function passesMiddleware(authToken: string, req: IncomingMessage, body: Record<string, string>): boolean {
  const middleware = twilio.webhook(authToken, { protocol: "http" });
  const expressReq = {
    protocol: "http",
    headers: req.headers,
    originalUrl: req.url ?? "",
    body,
    header: (name: string) => req.headers[name.toLowerCase()] as string | undefined,
  };
  let passed = false;
  const expressRes = { type: () => expressRes, status: () => expressRes, send: () => expressRes };
  middleware(expressReq as never, expressRes as never, () => {
    passed = true;
  });
  return passed;
}
