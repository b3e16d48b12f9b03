// How long one call takes end to end, step by step: a real nats-server, an edge, a region worker
// and a webhook server on this machine, calls placed one after another at time-scale 0 with
// `<Response><Say>Hi</Say></Response>`. Prints the median and p99 of each step.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { addAccount, newAuthToken } from "../src/admin/accounts.js";
import { addNumber } from "../src/admin/numbers.js";
import { placeCall } from "../src/caller/place-call.js";
import { startNatsServer } from "../src/dev/nats-server.js";
import { Edge } from "../src/edge/edge.js";
import { newSid } from "../src/model/sid.js";
import { RegionWorker } from "../src/region/worker.js";
import { openGlobalStores } from "../src/store/global.js";

const CALLS = Number(process.env.CALLS ?? 300);
const WARMUP = 30;

const steps = [
  "offer → edge reply (route, JetStream publish + ack)",
  "edge reply → webhook request sent (pull, actor start, config lookup)",
  "webhook request → response (signed POST over undici)",
  "response → record stored (parse, run TwiML, KV put)",
  "stored → caller told (ended event, record read)",
  "total",
] as const;

async function main(): Promise<void> {
  const nats = await startNatsServer({});
  const nc = await connect({ servers: nats.url });
  const log = pino({ level: "warn" });
  const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi</Say></Response>';
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "Content-Type": "text/xml" }).end(twiml));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;

  const global = await openGlobalStores(nc);
  const accountSid = newSid("AC");
  await addAccount(global, { sid: accountSid, token: newAuthToken() });
  await addNumber(nc, global, {
    number: "+15551230001",
    region: "us1",
    voiceUrl: `http://127.0.0.1:${port}/voice`,
    accountSid,
  });
  const worker = await RegionWorker.start({ nc, region: "us1", log });
  const edge = await Edge.start({ nc, edge: "ashburn", log });

  const samples: number[][] = steps.map(() => []);
  for (let i = 0; i < CALLS + WARMUP; i++) {
    const start = performance.now();
    const t = { reply: NaN, request: NaN, response: NaN, stored: NaN, end: NaN };
    await placeCall(nc, {
      to: "+15551230001",
      from: "+15557654321",
      edge: "ashburn",
      caller: { timeScale: 0 },
      onProgress: (p) => {
        const now = performance.now();
        if (p.source === "offered") t.reply = now;
        if (p.source === "inspect" && p.event.type === "webhook.request") t.request = now;
        if (p.source === "inspect" && p.event.type === "webhook.response") t.response = now;
        if (p.source === "channel" && p.event.kind === "ended") t.stored = now;
      },
    });
    t.end = performance.now();
    if (i < WARMUP) continue;
    const d = [
      t.reply - start,
      t.request - t.reply,
      t.response - t.request,
      t.stored - t.response,
      t.end - t.stored,
      t.end - start,
    ];
    for (const [k, v] of d.entries()) samples[k]?.push(v);
  }

  const q = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
  process.stdout.write(`one call end to end, ${CALLS} calls one at a time (after ${WARMUP} warm-up), ms\n`);
  process.stdout.write(`${"step".padEnd(72)} ${"p50".padStart(7)} ${"p99".padStart(7)}\n`);
  steps.forEach((name, k) => {
    const xs = samples[k] ?? [];
    process.stdout.write(
      `${name.padEnd(72)} ${q(xs, 0.5).toFixed(2).padStart(7)} ${q(xs, 0.99).toFixed(2).padStart(7)}\n`,
    );
  });

  await edge.stop();
  await worker.stop();
  await nc.close();
  server.close();
  await nats.stop();
}

await main();
