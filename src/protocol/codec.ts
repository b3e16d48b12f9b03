// Payload encoding on the bus: msgpack by default; JSON when the message says
// `Content-Type: application/json`, so `nats req` from a shell works too. Replies use the
// encoding of the request they answer.
import { type MsgHdrs, headers as natsHeaders } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { fail } from "../errors/switchboard-error.js";

// Plain maps, no records: payloads must stay readable by any msgpack decoder, not only msgpackr.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const JSON_TYPE = "application/json";
// One of each for the process: constructing them per message showed in the worker's profile.
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export type Encoding = "msgpack" | "json";

export function encodingOf(h: MsgHdrs | undefined): Encoding {
  const type = h?.get("Content-Type") ?? "";
  return type.toLowerCase().startsWith(JSON_TYPE) ? "json" : "msgpack";
}

export function encode(value: unknown, encoding: Encoding = "msgpack"): Uint8Array {
  return encoding === "json" ? textEncoder.encode(JSON.stringify(value)) : packr.pack(value);
}

/** Decodes a payload; anything that is not valid msgpack/JSON throws 90001. */
export function decode(data: Uint8Array, encoding: Encoding = "msgpack"): unknown {
  if (data.length === 0) throw fail("badPayload", "empty payload");
  try {
    return encoding === "json" ? JSON.parse(textDecoder.decode(data)) : packr.unpack(data);
  } catch (err) {
    throw fail("badPayload", `payload is not valid ${encoding}: ${(err as Error).message}`, { cause: err });
  }
}

/** Headers announcing a JSON payload. */
export function jsonHeaders(): MsgHdrs {
  const h = natsHeaders();
  h.set("Content-Type", JSON_TYPE);
  return h;
}
