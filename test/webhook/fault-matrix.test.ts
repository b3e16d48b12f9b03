// One call per webhook fault, against real local HTTP servers: the code Twilio would report, whether
// the fallback URL was used, how the call ended, and the notification stored against it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPLICATION_ERROR_SAY } from "../../machines/call.machine.js";
import type { CallProgress } from "../../src/caller/place-call.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";

const OK = '<?xml version="1.0"?><Response><Say>Backup works</Say><Hangup/></Response>';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const xml =
  (body: string, type = "text/xml"): Handler =>
  (_req, res) =>
    res.writeHead(200, { "Content-Type": type }).end(body);

const routes: Record<string, Handler> = {
  "/ok": xml(OK),
  "/hang": () => {},
  "/404": (_req, res) => res.writeHead(404).end("not here"),
  "/500": (_req, res) => res.writeHead(500).end("boom"),
  "/no-type": (_req, res) => {
    res.removeHeader("Content-Type");
    res.writeHead(200).end(OK);
  },
  "/malformed": xml("<Response><Say>Hi</Response>"),
  "/wrong-root": xml("<Foo><Say>Hi</Say></Foo>"),
  "/huge": xml(`<Response><Say>${"a".repeat(70 * 1024)}</Say></Response>`),
  "/loop": (_req, res) => res.writeHead(302, { Location: "/loop" }).end(),
  "/308": (_req, res) => res.writeHead(308, { Location: "/ok" }).end(),
  // No Content-Length: Node sends the (empty) body chunked.
  "/empty-chunked": (_req, res) => res.writeHead(200, { "Content-Type": "text/xml" }).end(),
  "/twiml-loop": xml('<Response><Redirect method="POST">/twiml-loop</Redirect></Response>'),
  "/drip": (_req, res) => {
    res.writeHead(200, { "Content-Type": "text/xml" });
    const timer = setInterval(() => res.write(" "), 50);
    res.on("close", () => clearInterval(timer));
  },
};

let engine: TestEngine;
let base: string;
let refusedPort: number;
const hits: Record<string, Record<string, string>[]> = {};
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => {
    body += c;
  });
  req.on("end", () => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits[path] = [...(hits[path] ?? []), Object.fromEntries(new URLSearchParams(body))];
    (routes[path] ?? ((_q: IncomingMessage, r: ServerResponse) => r.writeHead(404).end()))(req, res);
  });
});

beforeAll(async () => {
  engine = await startTestEngine();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  refusedPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await engine?.[Symbol.asyncDispose]();
});

interface Fault {
  name: string;
  voiceUrl: () => string;
  fallbackUrl?: () => string;
  code: number;
  /** The voice URL's own code, which the fallback request carries as ErrorCode; `code` unless said. */
  voiceCode?: number;
  /** What the caller hears last: the app-error message, or the fallback's TwiML. */
  heard: string;
}

const faults: Fault[] = [
  {
    name: "timeout",
    voiceUrl: () => `${base}/hang#rt=300&tt=400&rc=0`,
    code: 11205,
    heard: APPLICATION_ERROR_SAY.text,
  },
  {
    name: "refused",
    voiceUrl: () => `http://127.0.0.1:${refusedPort}/voice`,
    code: 11205,
    heard: APPLICATION_ERROR_SAY.text,
  },
  {
    name: "DNS failure",
    voiceUrl: () => "http://nonexistent.invalid/voice",
    code: 11210,
    heard: APPLICATION_ERROR_SAY.text,
  },
  { name: "404", voiceUrl: () => `${base}/404`, code: 11200, heard: APPLICATION_ERROR_SAY.text },
  { name: "500", voiceUrl: () => `${base}/500`, code: 11200, heard: APPLICATION_ERROR_SAY.text },
  {
    name: "no content type",
    voiceUrl: () => `${base}/no-type`,
    code: 12300,
    heard: APPLICATION_ERROR_SAY.text,
  },
  {
    name: "malformed XML",
    voiceUrl: () => `${base}/malformed`,
    code: 12100,
    heard: APPLICATION_ERROR_SAY.text,
  },
  {
    name: "wrong root",
    voiceUrl: () => `${base}/wrong-root`,
    code: 12102,
    heard: APPLICATION_ERROR_SAY.text,
  },
  { name: "over 64 kB", voiceUrl: () => `${base}/huge`, code: 11750, heard: APPLICATION_ERROR_SAY.text },
  { name: "redirect loop", voiceUrl: () => `${base}/loop`, code: 11215, heard: APPLICATION_ERROR_SAY.text },
  {
    name: "308 (a redirect Twilio does not follow), with a fallback",
    voiceUrl: () => `${base}/308`,
    fallbackUrl: () => `${base}/ok`,
    code: 11216,
    heard: "Backup works",
  },
  {
    name: "empty chunked body",
    voiceUrl: () => `${base}/empty-chunked`,
    code: 11770,
    heard: APPLICATION_ERROR_SAY.text,
  },
  {
    name: "TwiML Redirect loop",
    voiceUrl: () => `${base}/twiml-loop`,
    code: 90006,
    heard: APPLICATION_ERROR_SAY.text,
  },
  {
    name: "slow drip",
    voiceUrl: () => `${base}/drip#tt=400`,
    code: 11205,
    heard: APPLICATION_ERROR_SAY.text,
  },
  {
    name: "fallback OK",
    voiceUrl: () => `${base}/500`,
    fallbackUrl: () => `${base}/ok`,
    code: 11200,
    heard: "Backup works",
  },
  {
    name: "fallback failing too",
    voiceUrl: () => `${base}/malformed`,
    fallbackUrl: () => `${base}/404`,
    code: 11200,
    voiceCode: 12100,
    heard: APPLICATION_ERROR_SAY.text,
  },
];

describe("webhook faults", () => {
  it.each(faults.map((f, i) => [f.name, f, i] as const))("%s", async (_name, fault, i) => {
    const number = `+1555300${String(i).padStart(4, "0")}`;
    const voiceUrl = fault.voiceUrl();
    await engine.addNumber({
      number,
      voiceUrl,
      ...(fault.fallbackUrl && { fallbackUrl: fault.fallbackUrl() }),
    });
    const said: string[] = [];
    const before = hits["/ok"]?.length ?? 0;
    const placed = await engine.call({
      to: number,
      onProgress: (p: CallProgress) => {
        if (p.source === "channel" && p.event.kind === "say") said.push(p.event.text);
      },
    });

    expect(placed.call.status).toBe("completed");
    expect(placed.call.error_code).toBe(fault.code);
    expect(said.at(-1)).toBe(fault.heard);

    const notes = await engine.notifications(placed.callSid);
    expect(notes.length).toBeGreaterThanOrEqual(1);
    expect(notes[0]).toMatchObject({
      call_sid: placed.callSid,
      log: "0",
      request_url: voiceUrl,
      request_method: "POST",
    });
    if (fault.fallbackUrl) {
      // The fallback was requested once, told what failed; its own failure is a second notification.
      const fallbackPath = new URL(fault.fallbackUrl()).pathname;
      const request = hits[fallbackPath]?.find((p) => p.CallSid === placed.callSid);
      expect(request).toMatchObject({ ErrorUrl: voiceUrl, CallSid: placed.callSid });
      expect(Number(request?.ErrorCode)).toBe(fault.voiceCode ?? fault.code);
      expect(notes.map((n) => n.request_url)).toEqual(
        fault.heard === APPLICATION_ERROR_SAY.text ? [voiceUrl, fault.fallbackUrl()] : [voiceUrl],
      );
    } else {
      expect(notes.map((n) => Number(n.error_code))).toEqual([fault.code]);
      expect(hits["/ok"]?.length ?? 0).toBe(before);
    }
  });
});
