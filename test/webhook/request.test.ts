import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import twilio from "twilio";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/errors/switchboard-error.js";
import { documentFromResponse } from "../../src/twiml/from-response.js";
import { WebhookClient } from "../../src/webhook/client.js";
import { CookieJar } from "../../src/webhook/cookies.js";
import { failed, networkFailure } from "../../src/webhook/failures.js";
import type { WebhookRequest, WebhookResponse } from "../../src/webhook/request.js";

const TOKEN = "0123456789abcdef0123456789abcdef";
const PARAMS = { CallSid: "CA0123", From: "+14158675310", To: "+18005551212", SpeechResult: "héllo & 'bye'" };
const TWIML = '<?xml version="1.0"?><Response><Say>hi</Say></Response>';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  valid: boolean;
}
type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen, n: number) => void;

const servers: Server[] = [];
/** Servers that speak no HTTP, closed after each test as `servers` are. */
const rawServers: NetServer[] = [];
const middleware = twilio.webhook(TOKEN);

/** Validates as receivers do: against the URL rebuilt from Host, and through twilio.webhook(). */
function validate(req: IncomingMessage, method: string, body: string): boolean {
  const params = method === "POST" ? Object.fromEntries(new URLSearchParams(body)) : {};
  const sig = String(req.headers["x-twilio-signature"] ?? "");
  const byUrl = twilio.validateRequest(TOKEN, sig, `http://${req.headers.host}${req.url}`, params);
  const header = (n: string) => req.headers[n.toLowerCase()] as string | undefined;
  const expressReq = {
    protocol: "http",
    headers: req.headers,
    originalUrl: req.url ?? "",
    body: params,
    header,
  };
  let byMiddleware = false;
  const expressRes = { type: () => expressRes, status: () => expressRes, send: () => expressRes };
  middleware(expressReq, expressRes, () => {
    byMiddleware = true;
  });
  return byUrl && byMiddleware && twilio.validateIncomingRequest(expressReq, TOKEN);
}

async function serve(handler: Handler): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const method = req.method ?? "";
    const s = { method, path: req.url ?? "", headers: req.headers, body, valid: validate(req, method, body) };
    seen.push(s);
    handler(req, res, s, seen.length);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function twiml(res: ServerResponse, body = TWIML): void {
  res.writeHead(200, { "content-type": "text/xml; charset=utf-8" }).end(body);
}

function redirect(res: ServerResponse, status: number, location: string, cookie?: string): void {
  res.writeHead(status, { location, ...(cookie ? { "set-cookie": cookie } : {}) }).end();
}

function post(url: string, extra: Partial<WebhookRequest> = {}): Promise<WebhookResponse> {
  return web.request({ url, method: "POST", params: PARAMS, authToken: TOKEN, ...extra });
}

async function failure(p: Promise<unknown>, code: number): Promise<SwitchboardError> {
  const err = await p.then(
    () => expect.fail(`expected error ${code}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SwitchboardError);
  expect(err).toMatchObject({ code });
  expect((err as Error).cause).toBeDefined();
  return err as SwitchboardError;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const server of rawServers.splice(0)) await new Promise((resolve) => server.close(resolve));
});
const web = new WebhookClient();
afterAll(() => web.close());

describe("WebhookClient.request: the request", () => {
  it("POSTs signed form params with Twilio's headers", async () => {
    const { base, seen } = await serve((_req, res) => twiml(res));
    const configured = `${base}/voice?app=1#ct=2000`;
    const res = await post(configured, { headers: { "X-Home-Region": "us1" }, idempotencyToken: "tok-1" });
    expect(res).toMatchObject({ status: 200, contentType: "text/xml", body: TWIML, attempts: 1 });
    expect(res.url).toBe(`${base}/voice?app=1`);
    const [s] = seen;
    expect(s).toMatchObject({ method: "POST", path: "/voice?app=1", valid: true });
    expect(Object.fromEntries(new URLSearchParams(s?.body))).toEqual(PARAMS);
    expect(s?.headers).toMatchObject({
      "content-type": "application/x-www-form-urlencoded",
      "user-agent": "TwilioProxy/1.1",
      accept: "*/*",
      "i-twilio-idempotency-token": "tok-1",
      "x-home-region": "us1",
    });
    const sig = String(s?.headers["x-twilio-signature"]);
    expect(twilio.validateRequest(TOKEN, sig, `${base}/voice?app=1`, PARAMS)).toBe(true);
    expect(twilio.validateRequest(TOKEN, sig, `${base}/voice?app=1`, { ...PARAMS, To: "+1" })).toBe(false);
  });

  it("GETs with the params appended to the query string, signed over the full URL", async () => {
    const { base, seen } = await serve((_req, res) => twiml(res));
    const res = await web.request({
      url: `${base}/g?a=b c`,
      method: "GET",
      params: PARAMS,
      authToken: TOKEN,
    });
    expect(res.status).toBe(200);
    const [s] = seen;
    expect(s).toMatchObject({ method: "GET", body: "", valid: true });
    const query = new URLSearchParams(s?.path.split("?")[1]);
    expect(Object.fromEntries(query)).toEqual({ a: "b c", ...PARAMS });
    expect(s?.headers["content-type"]).toBeUndefined();
  });

  it("follows redirects across origins, signing every hop; 307 keeps POST, 302 turns it into GET", async () => {
    const second = await serve((req, res) =>
      req.url === "/b" ? redirect(res, 302, "/c?x=1") : twiml(res, "<Response/>"),
    );
    const first = await serve((_req, res) => redirect(res, 307, `${second.base}/b`));
    const res = await post(`${first.base}/a`);
    expect(res).toMatchObject({ url: `${second.base}/c?x=1`, body: "<Response/>", attempts: 1 });
    const hops = [...first.seen, ...second.seen];
    expect(hops.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /a", "POST /b", "GET /c?x=1"]);
    expect(hops.every((s) => s.valid)).toBe(true);
    expect(hops[1]?.body).toBe(hops[0]?.body);
    expect(hops[2]?.body).toBe("");
  });

  it("returns cookies on the next hop, and across requests with a shared jar", async () => {
    const { base, seen } = await serve((req, res) => {
      if (req.url === "/a") redirect(res, 303, "/b", "sid=abc; Path=/; HttpOnly");
      else twiml(res);
    });
    const cookies = new CookieJar();
    await post(`${base}/a`, { cookies });
    expect(seen.map((s) => s.headers.cookie)).toEqual([undefined, "sid=abc"]);
    await post(`${base}/c`, { cookies });
    expect(seen[2]?.headers.cookie).toBe("sid=abc");
    await post(`${base}/d`);
    expect(seen[3]?.headers.cookie).toBeUndefined();
  });

  it("CookieJar honours Path, Domain, Secure and Max-Age", () => {
    const jar = new CookieJar();
    const at = (u: string) => jar.header(new URL(u));
    const from = new URL("http://www.example.com/x");
    jar.store(["a=1; Path=/app", "b=2; Secure", "c=3; Domain=.example.com", "d=4; Domain=other.com"], from);
    expect(at("http://www.example.com/app/x")).toBe("a=1; c=3");
    expect(at("http://www.example.com/apple")).toBe("c=3");
    expect(at("https://api.example.com/")).toBe("c=3");
    expect(at("https://www.example.com/")).toBe("b=2; c=3");
    jar.store("c=; Max-Age=0; Domain=example.com", from);
    expect(at("https://www.example.com/app")).toBe("a=1; b=2");
  });

  it("CookieJar refuses a cookie for a public suffix (Domain=co.uk), as browsers do", () => {
    const jar = new CookieJar();
    jar.store(["x=1; Domain=co.uk", "y=2; Domain=example.co.uk"], new URL("http://www.example.co.uk/"));
    expect(jar.header(new URL("http://other.co.uk/"))).toBeUndefined();
    expect(jar.header(new URL("http://api.example.co.uk/"))).toBe("y=2");
  });

  it("CookieJar keeps at most maxCookies, the oldest out first, and saves what a resumed call restores", () => {
    const jar = new CookieJar(2);
    const from = new URL("http://app.example.com/");
    jar.store(["a=1", "b=2; Max-Age=600", "c=3"], from);
    expect(jar.header(from)).toBe("b=2; c=3");
    const saved = jar.saved();
    expect(saved?.map((c) => [c.name, c.expiresAt === null])).toEqual([
      ["b", false],
      ["c", true],
    ]);
    expect(new CookieJar(50, JSON.parse(JSON.stringify(saved))).header(from)).toBe("b=2; c=3");
    expect(new CookieJar().saved()).toBeUndefined();
  });

  it("decodes the body by its charset and reports the bare media type", async () => {
    const { base } = await serve((_req, res) =>
      res.writeHead(200, { "content-type": "Text/Plain; charset=ISO-8859-1" }).end(Buffer.from([0x63, 0xe9])),
    );
    expect(await post(`${base}/`)).toMatchObject({ contentType: "text/plain", body: "cé" });
  });
});

describe("WebhookClient.request: failures", () => {
  it("404 and 500 are 11200 with the status in the message, not retried by default", async () => {
    const { base, seen } = await serve((req, res) => res.writeHead(req.url === "/missing" ? 404 : 500).end());
    expect((await failure(post(`${base}/missing`), 11200)).message).toContain("404");
    expect((await failure(post(`${base}/broken`), 11200)).message).toContain("500");
    expect(seen).toHaveLength(2);
  });

  it("keeps an error answer's status, headers and first 64 KB of body on the error", async () => {
    const trace = `Error: survey not found\n${"    at handler (app.js:1)\n".repeat(5000)}`;
    const { base } = await serve((_req, res) =>
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8", "x-request-id": "r-42" }).end(trace),
    );
    const err = (await failure(post(`${base}/broken`), 11200)) as SwitchboardError & {
      response?: { status: number; headers: Record<string, string>; body: string; truncated?: boolean };
    };
    expect(err.response).toMatchObject({
      status: 500,
      contentType: "text/plain",
      headers: { "x-request-id": "r-42" },
      truncated: true,
    });
    expect(err.response?.body).toBe(trace.slice(0, 64 * 1024));
  });

  it("a refused connection is 11205, retried once by default", async () => {
    const { base } = await serve(() => {});
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
    const err = await failure(post(`${base}/`), 11205);
    expect(err.message).toContain("ECONNREFUSED");
    expect(err.message).toContain("2 attempts");
  });

  it("an unresolvable host is 11210", async () => {
    await failure(post("http://nonexistent.invalid/"), 11210);
  });

  it("bad URLs and schemes are 11100", async () => {
    await failure(post("not a url"), 11100);
    await failure(post("ftp://example.com/twiml"), 11100);
  });

  it("a redirect loop is 11215 after following 10 redirects", async () => {
    const { base, seen } = await serve((_req, res) => redirect(res, 302, "/loop"));
    await failure(post(`${base}/loop`), 11215);
    expect(seen).toHaveLength(11);
  });

  it("a body over 64 KiB is 11750, read no further than the cap", async () => {
    const { base } = await serve((req, res) => {
      res.writeHead(200, { "content-type": "text/xml" });
      if (req.url === "/exact") return res.end("x".repeat(64 * 1024));
      res.write("x".repeat(64 * 1024 + 1)); // chunked, never ended: only stopping at the cap can finish
    });
    expect((await post(`${base}/exact`)).body).toHaveLength(64 * 1024);
    const started = performance.now();
    await failure(post(`${base}/endless#tt=5000`), 11750);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it("a declared Content-Length over the cap is 11750 before reading", async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/xml", "content-length": "100" }).end("y".repeat(100));
    });
    await failure(post(`${base}/`, { maxBodyBytes: 99 }), 11750);
  });

  it("a server slower than #tt=300 is 11205 within about a second", async () => {
    const { base, seen } = await serve(() => {}); // never answers
    const started = performance.now();
    const err = await failure(post(`${base}/slow#tt=300`), 11205);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1000);
    expect(err.message).toContain("total timeout");
    expect(seen).toHaveLength(1);
  });

  it("the caller's signal aborts the request", async () => {
    const { base } = await serve(() => {});
    const controller = new AbortController();
    const pending = post(`${base}/`, { signal: controller.signal });
    setImmediate(() => controller.abort());
    expect((await failure(pending, 11205)).message).toContain("aborted");
  });
});

describe("WebhookClient.request: what Twilio reports as protocol, redirect and TLS failures", () => {
  /** A TCP server that answers every connection's first bytes with `reply` and closes it. */
  async function raw(reply: string): Promise<{ url: string; connections: () => number }> {
    let connections = 0;
    const server = createNetServer((socket) => {
      connections++;
      socket.once("data", () => socket.end(reply));
    });
    rawServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/voice`,
      connections: () => connections,
    };
  }

  it("an answer that is not HTTP is 11206, not retried even under rp=all", async () => {
    const { url, connections } = await raw("THIS IS NOT HTTP\r\n\r\n");
    const err = await failure(post(`${url}#rp=all&rc=2`), 11206);
    expect(err.message).toContain("not a valid HTTP response");
    expect(connections()).toBe(1);
  });

  it("a 3xx Twilio does not follow (308, 300), one without Location or with an unusable one is 11216", async () => {
    const { base, seen } = await serve((req, res) => {
      if (req.url === "/308") return redirect(res, 308, "/twiml");
      if (req.url === "/300") return redirect(res, 300, "/twiml");
      if (req.url === "/no-location") return res.writeHead(302).end();
      if (req.url === "/ftp") return redirect(res, 302, "ftp://example.com/twiml");
      twiml(res);
    });
    for (const path of ["/308", "/300", "/no-location", "/ftp"]) await failure(post(`${base}${path}`), 11216);
    expect(seen.map((s) => s.path)).toEqual(["/308", "/300", "/no-location", "/ftp"]);
  });

  it("an empty chunked 2xx body is 11770 where a document is expected; an empty sized one is not", async () => {
    const { base } = await serve((req, res) => {
      const sized = req.url === "/sized" ? { "content-length": "0" } : {};
      // Without a Content-Length, Node sends the headers first and the body chunked.
      res.writeHead(200, { "content-type": "text/plain", ...sized }).end();
    });
    const chunked = await post(`${base}/chunked`);
    expect(chunked.emptyChunked).toBe(true);
    expect(() => documentFromResponse(chunked)).toThrow(expect.objectContaining({ code: 11770 }));
    const sized = await post(`${base}/sized`);
    expect(sized.emptyChunked).toBeUndefined();
    expect(documentFromResponse(sized).verbs).toEqual([]);
  });

  it("a self-signed certificate is 11237 and a server that does not speak TLS is 11220, neither retried", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-webhook-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
          ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem")],
          ...["-out", join(dir, "cert.pem")],
        ],
        { stdio: "ignore" },
      );
      let handshakes = 0;
      const tls = createHttpsServer(
        { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
        (_req, res) => twiml(res),
      );
      tls.on("connection", () => handshakes++);
      servers.push(tls);
      await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
      const tlsPort = (tls.address() as AddressInfo).port;
      const err = await failure(post(`https://127.0.0.1:${tlsPort}/voice#rp=all&rc=2`), 11237);
      expect(err.message).toContain("DEPTH_ZERO_SELF_SIGNED_CERT");
      expect(handshakes).toBe(1);
      const { base, seen } = await serve((_req, res) => twiml(res));
      await failure(post(`${base.replace("http:", "https:")}/voice#rp=all&rc=2`), 11220);
      expect(seen).toHaveLength(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an expired certificate is 11236 and one for another host 11235 (Node's codes for them)", () => {
    const context = {
      at: "https://app.example/voice",
      host: "app.example",
      timedOut: false,
      totalTimeoutMs: 15_000,
      callerSignal: undefined,
      egressDescription: "any",
      partial: false,
    };
    const codeOf = (errCode: string) => {
      const f = networkFailure(Object.assign(new Error("handshake"), { code: errCode }), context);
      return { code: failed(f.condition, f.message).code, retried: f.retryAs !== undefined };
    };
    expect(codeOf("CERT_HAS_EXPIRED")).toEqual({ code: 11236, retried: false });
    expect(codeOf("CERT_NOT_YET_VALID")).toEqual({ code: 11236, retried: false });
    expect(codeOf("ERR_TLS_CERT_ALTNAME_INVALID")).toEqual({ code: 11235, retried: false });
    expect(codeOf("UNABLE_TO_GET_ISSUER_CERT_LOCALLY")).toEqual({ code: 11237, retried: false });
    expect(codeOf("ERR_SSL_WRONG_VERSION_NUMBER")).toEqual({ code: 11220, retried: false });
    // A dropped connection is still 11205, retried under rt.
    expect(codeOf("ECONNRESET")).toEqual({ code: 11205, retried: true });
  });
});

describe("WebhookClient.request: retries", () => {
  it("rp=5xx retries a 500 with the same idempotency token", async () => {
    const { base, seen } = await serve((_req, res, _s, n) =>
      n === 1 ? res.writeHead(500).end() : twiml(res),
    );
    const res = await post(`${base}/r#rp=5xx`);
    expect(res).toMatchObject({ status: 200, attempts: 2 });
    const tokens = seen.map((s) => s.headers["i-twilio-idempotency-token"]);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toMatch(/\S{16,}/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(seen.every((s) => s.valid)).toBe(true);
  });

  it("rp=rt retries a read timeout with the same token; the default policy does not", async () => {
    const { base, seen } = await serve((_req, res, _s, n) => n !== 1 && n !== 3 && twiml(res));
    const res = await post(`${base}/r#rt=200&rp=rt`, { idempotencyToken: "same" });
    expect(res.attempts).toBe(2);
    expect(seen.map((s) => s.headers["i-twilio-idempotency-token"])).toEqual(["same", "same"]);
    const err = await failure(post(`${base}/r#rt=200`), 11205);
    expect(err.message).toContain("1 attempt");
    expect(seen).toHaveLength(3);
  });

  it("requests nothing for a URL whose overrides Twilio refuses: 11243, 11240, 11241, 11242", async () => {
    const { base, seen } = await serve((_req, res) => twiml(res));
    await failure(post(`${base}/#rp=sometimes`), 11243);
    await failure(post(`${base}/#e=atlantis`), 11240);
    await failure(post(`${base}/#e=roaming`), 11241);
    await failure(post(`${base}/#e=tokyo-ix`), 11242);
    expect(seen).toHaveLength(0);
    expect(await post(`${base}/#e=dublin&rp=ct`)).toMatchObject({ status: 200 });
  });

  it("rc=0 does not retry a 500 even with rp=5xx", async () => {
    const { base, seen } = await serve((_req, res) => res.writeHead(503).end());
    await failure(post(`${base}/#rp=5xx&rc=0`), 11200);
    expect(seen).toHaveLength(1);
  });
});
