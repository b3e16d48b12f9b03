// The trunk an outbound REST call to a number goes out through, resolved when the call is placed: the
// api may read `sb_trunks`, a region may not (docs/security.md). Only its route goes in the job, no secret.
import { isE164, numberKey } from "../../model/phone.js";
import type { OutboundTrunk } from "../../protocol/outbound.js";
import { readTrunk, resolveOutboundTrunk } from "../../store/trunks.js";
import type { RestContext } from "./context.js";

/**
 * The From number's trunk, else its account's; undefined for none (the simulated network) and for a
 * `To` that is not a number (`sip:` goes to its own host, `client:` is simulated). A named trunk that
 * is gone is 20404, never a silent fallback.
 */
export async function outboundTrunkOf(
  ctx: RestContext,
  call: { accountSid: string; from: string; to: string; region: string },
): Promise<OutboundTrunk | undefined> {
  if (!isE164(call.to)) return undefined;
  const config = isE164(call.from)
    ? await (await ctx.buckets.numbers(call.region)).get(numberKey(call.from))
    : undefined;
  // A verified caller ID is no number of the account: only the account's trunk applies.
  const number = config?.account_sid === call.accountSid ? config : undefined;
  const trunk = await resolveOutboundTrunk(
    (name) => readTrunk(ctx.trunks, name),
    number,
    ctx.accounts.get(call.accountSid),
  );
  if (!trunk) return undefined;
  return {
    name: trunk.name,
    host: trunk.host,
    port: trunk.port,
    transport: trunk.transport,
    ...(trunk.from_domain && { fromDomain: trunk.from_domain }),
  };
}
