// Errors across the bus, as nats.js services carry them: the numeric code and message travel in
// headers (so any NATS client can read them) and in the body; the requester rebuilds the error.
import { type Msg, headers as natsHeaders } from "@nats-io/transport-node";
import { SwitchboardError, toSwitchboardError } from "../errors/switchboard-error.js";
import { decode, type Encoding, encode, encodingOf } from "./codec.js";

const CODE_HEADER = "Nats-Service-Error-Code";
const MESSAGE_HEADER = "Nats-Service-Error";

/** Answers a request with an error; the body is `{error: {code, message}}` in the request's encoding. */
export function respondError(msg: Msg, err: unknown): void {
  const e = toSwitchboardError(err);
  const h = natsHeaders();
  h.set(CODE_HEADER, String(e.code));
  h.set(MESSAGE_HEADER, e.message.replaceAll(/[\r\n]+/g, " "));
  const encoding = encodingOf(msg.headers);
  if (encoding === "json") h.set("Content-Type", "application/json");
  msg.respond(encode({ error: e.toJSON() }, encoding), { headers: h });
}

export function respondValue(msg: Msg, value: unknown): void {
  const encoding: Encoding = encodingOf(msg.headers);
  const h = encoding === "json" ? natsHeaders() : undefined;
  h?.set("Content-Type", "application/json");
  msg.respond(encode(value, encoding), h ? { headers: h } : undefined);
}

/** Reads a reply: throws the SwitchboardError it carries, else returns its decoded body. */
export function readReply(msg: Msg): unknown {
  const code = msg.headers?.get(CODE_HEADER);
  if (code) throw new SwitchboardError(Number(code), msg.headers?.get(MESSAGE_HEADER) ?? "error");
  return decode(msg.data, encodingOf(msg.headers));
}
