// The bare pipeline's worker, for the throughput baseline: per call only the work a region cannot
// avoid, with the same libraries and no actors. Pull the call, POST its signed webhook with undici,
// parse the TwiML with saxes, put the Call record in the calls bucket (`load` watches it), ack.
import { createHmac } from "node:crypto";
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { SaxesParser } from "saxes";
import { Pool } from "undici";
import { buckets } from "../../src/protocol/subjects.js";
import { BARE } from "../lib/provision.js";

const { values } = parseArgs({
  options: {
    nats: { type: "string" },
    url: { type: "string" },
    token: { type: "string" },
    account: { type: "string" },
  },
});
const url = new URL(values.url ?? "");
const token = values.token ?? "";
const nc = await connect({ servers: values.nats, noAsyncTraces: true });
const js = jetstream(nc);
const calls = await new Kvm(nc).open(buckets.calls(BARE.region));
const consumer = await js.consumers.get(BARE.stream, BARE.consumer);
const pool = new Pool(url.origin, { pipelining: 1 });
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const CONCURRENCY = 1000;
let live = 0;
let slotFreed: (() => void) | undefined;

interface Job {
  callSid: string;
  to: string;
  from: string;
  offeredAt: number;
}

/** The verbs of a TwiML document: element names and their text, as the engine's parser reads them. */
function parseTwiml(xml: string): { name: string; text: string }[] {
  const verbs: { name: string; text: string }[] = [];
  const parser = new SaxesParser();
  parser.on("opentag", (tag) => {
    if (tag.name !== "Response") verbs.push({ name: tag.name, text: "" });
  });
  parser.on("text", (text) => {
    const verb = verbs.at(-1);
    if (verb) verb.text += text;
  });
  parser.on("error", (err) => {
    throw err;
  });
  parser.write(xml).close();
  return verbs;
}

async function handle(job: Job): Promise<void> {
  const params: Record<string, string> = {
    CallSid: job.callSid,
    AccountSid: values.account ?? "",
    From: job.from,
    To: job.to,
    CallStatus: "ringing",
    ApiVersion: "2010-04-01",
    Direction: "inbound",
    Caller: job.from,
    Called: job.to,
  };
  let signed = url.href;
  for (const name of Object.keys(params).sort()) signed += name + params[name];
  const res = await pool.request({
    path: url.pathname,
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": createHmac("sha1", token).update(signed).digest("base64"),
    },
    body: new URLSearchParams(params).toString(),
  });
  const verbs = parseTwiml(await res.body.text());
  // The same fields as the engine's Call resource, so both pipelines store records of one size.
  const now = new Date().toUTCString();
  const uri = `/2010-04-01/Accounts/${params.AccountSid}/Calls/${job.callSid}`;
  const record = {
    sid: job.callSid,
    date_created: new Date(job.offeredAt).toUTCString(),
    date_updated: now,
    parent_call_sid: null,
    account_sid: params.AccountSid,
    to: job.to,
    to_formatted: job.to,
    from: job.from,
    from_formatted: job.from,
    phone_number_sid: null,
    status: "completed",
    start_time: now,
    end_time: now,
    duration: String(verbs.length),
    price: null,
    price_unit: "USD",
    direction: "inbound",
    answered_by: null,
    api_version: "2010-04-01",
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: "0",
    trunk_sid: null,
    uri: `${uri}.json`,
    subresource_uris: {
      notifications: `${uri}/Notifications.json`,
      recordings: `${uri}/Recordings.json`,
      events: `${uri}/Events.json`,
      transcriptions: `${uri}/Transcriptions.json`,
    },
    error_code: null,
    error_message: null,
  };
  await calls.put(job.callSid, JSON.stringify(record));
}

async function pull(): Promise<void> {
  for (;;) {
    const free = CONCURRENCY - live;
    if (free <= 0) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
      continue;
    }
    const batch = await consumer.fetch({ max_messages: Math.min(free, 256), expires: 2_000 });
    for await (const msg of batch) {
      live++;
      handle(packr.unpack(msg.data) as Job)
        .then(
          () => msg.ack(),
          () => msg.nak(1_000),
        )
        .finally(() => {
          live--;
          slotFreed?.();
        });
    }
  }
}

await nc.flush();
process.stdout.write(`${JSON.stringify({ msg: "ready" })}\n`);
process.once("SIGTERM", () => process.exit(0));
await pull();
