// Which INVITE a <Dial> target of a SIP call becomes: a <Sip> noun's URI as written (its `?` headers
// sent as headers, its username/password answering a challenge), a number through the outbound trunk
// of the call's number or account (named, not read: region workers may not read sb_trunks, so the
// gateway fills in the trunk's address and credentials), or none (the simulated network).
import type { CallFacts } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import { isE164, numberKey } from "../../model/phone.js";
import type { AccountRecord, NumberConfig } from "../../model/records.js";
import { outboundTrunkFor } from "../../store/trunks.js";
import type { DialTarget } from "../../twiml/ports/dial-network.js";
import type { SipLegRequest } from "./sip-leg.js";

/** Headers a <Sip> URI may carry besides X- ones (Twilio, error 13252). */
const STANDARD_HEADERS = ["user-to-user", "remote-party-id", "p-preferred-identity", "p-called-party-id"];
/** Twilio caps a <Sip> URI's headers at 1024 characters in all. */
const MAX_HEADERS = 1024;

/** The region's numbers and accounts, as far as a leg's trunk needs them. */
export interface TrunkDirectory {
  readonly numbers: { get(key: string): Pick<NumberConfig, "outbound_trunk"> | undefined };
  readonly accounts: { get(sid: string): Pick<AccountRecord, "outbound_trunk"> | undefined };
}

export function sipLegRequest(
  rt: { readonly directory: TrunkDirectory },
  facts: CallFacts,
  target: DialTarget,
  callerId: string,
  warn: (code: number, message: string) => void,
): SipLegRequest | undefined {
  const from = { user: fromUser(callerId) };
  if (/^sips?:/i.test(target.to)) {
    const { uri, headers } = splitHeaders(target.to, warn);
    return {
      uri,
      from,
      // A registered user's realm may belong to an account: the gateway rings it for that one only.
      ...(facts.accountSid && { accountSid: facts.accountSid }),
      ...(target.auth && { auth: target.auth }),
      ...(Object.keys(headers).length > 0 && { headers }),
    };
  }
  if (!isE164(target.to)) return undefined;
  // The trunk of the number that was called (an inbound call's To, an outbound call's From), else
  // the account's.
  const { numbers, accounts } = rt.directory;
  const own = facts.direction === "inbound" ? facts.to : facts.from;
  const number = isE164(own) ? numbers.get(numberKey(own)) : undefined;
  const trunk = outboundTrunkFor(number, accounts.get(facts.accountSid ?? ""));
  if (trunk === undefined) return undefined;
  return { uri: `sip:${target.to}@${trunk}`, trunk, from };
}

/** The From user part: a number or name as is, a `sip:` identity's user, a client's identity. */
function fromUser(callerId: string): string {
  const sip = /^sips?:([^@;?]+)/i.exec(callerId);
  if (sip) return decodeURIComponent(sip[1] as string);
  return callerId.replace(/^client:/, "").slice(0, 256) || "anonymous";
}

/** `sip:bob@example.com?X-Customer=42&X-Team=b` → the URI without them, and the headers. */
function splitHeaders(
  raw: string,
  warn: (code: number, message: string) => void,
): { uri: string; headers: Record<string, string> } {
  const at = raw.indexOf("?");
  if (at < 0) return { uri: raw, headers: {} };
  const headers: Record<string, string> = {};
  let size = 0;
  for (const pair of raw.slice(at + 1).split("&")) {
    const eq = pair.indexOf("=");
    const name = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : safeDecode(pair.slice(eq + 1));
    const allowed =
      /^[A-Za-z0-9-]{1,128}$/.test(name) &&
      (/^x-/i.test(name) || STANDARD_HEADERS.includes(name.toLowerCase()));
    size += pair.length + 1;
    if (!allowed || size > MAX_HEADERS || value.length > 1024 || /[\r\n]/.test(value)) {
      warn(
        ErrorCodes.dialInvalidHeaderName.code,
        `<Sip> header "${name}" is not an X- header Twilio passes (or the headers are over 1024 characters); not sent`,
      );
      continue;
    }
    headers[name] = value;
  }
  return { uri: raw.slice(0, at), headers };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
