// The bare pipeline's edge, for the throughput baseline: only the work an edge cannot avoid. It
// answers offers on `sb.edge.bare.offer`, stores each call in the stream (msg id = CallSid, as the
// engine does) and replies after the stream's ack. No validation, routing table or accounts.
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { BARE } from "../lib/provision.js";

const { values } = parseArgs({ options: { nats: { type: "string" } } });
const nc = await connect({ servers: values.nats, noAsyncTraces: true });
const js = jetstream(nc);
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

nc.subscribe(`sb.edge.${BARE.edge}.offer`, {
  queue: `edge.${BARE.edge}`,
  callback: (err, msg) => {
    if (err) return;
    const offer = packr.unpack(msg.data) as { callSid: string; to: string; from: string };
    const job = { ...offer, region: BARE.region, offeredAt: Date.now() };
    js.publish(BARE.subject, packr.pack(job), { msgID: offer.callSid }).then(
      () => msg.respond(packr.pack({ callSid: offer.callSid, region: BARE.region })),
      () => {}, // the caller's request times out: the bare pipeline has no error replies
    );
  },
});
await nc.flush();
process.stdout.write(`${JSON.stringify({ msg: "ready" })}\n`);
process.once("SIGTERM", () => void nc.drain().then(() => process.exit(0)));
