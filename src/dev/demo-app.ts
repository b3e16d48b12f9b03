// The small webhook app `switchboard up` serves so a first call has something to talk to. It
// checks X-Twilio-Signature the way a Twilio app would, then answers with TwiML.

import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { twilioSignature } from "../webhook/sign.js";

const WELCOME = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="woman">Welcome to switchboard. This call was answered by the demo app.</Say>
  <Pause length="1"/>
  <Redirect method="POST">goodbye</Redirect>
</Response>`;

const GOODBYE = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="woman">That was a Redirect to a second webhook. Goodbye!</Say>
  <Hangup/>
</Response>`;

export interface DemoApp {
  voiceUrl: string;
  close(): Promise<void>;
}

export async function startDemoApp(opts: { authToken: () => string; port?: number }): Promise<DemoApp> {
  const server = createServer((req, res) => void handle(req, res, opts.authToken()));
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    voiceUrl: `http://127.0.0.1:${port}/voice`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
  let body = "";
  for await (const chunk of req) body += chunk;
  const url = `http://${req.headers.host}${req.url}`;
  const params = Object.fromEntries(new URLSearchParams(body));
  const expected = Buffer.from(twilioSignature(token, url, params));
  const given = Buffer.from(String(req.headers["x-twilio-signature"] ?? ""));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    res.writeHead(403, { "Content-Type": "text/plain" }).end("Twilio Request Validation Failed.");
    return;
  }
  const path = new URL(url).pathname;
  const twiml = path === "/voice" ? WELCOME : path === "/goodbye" ? GOODBYE : undefined;
  if (!twiml) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "Content-Type": "text/xml" }).end(twiml);
}
