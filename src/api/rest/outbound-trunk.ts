// The trunk an outbound REST call to a number goes out through, resolved when the call is placed: the
// api may read `sb_trunks`, a region may not (docs/security.md). Only its route goes in the job, no secret.
import { isE164 } from "../../model/phone.js";
import type { NumberConfig } from "../../model/records.js";
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
  call: { accountSid: string; to: string; number?: NumberConfig },
): Promise<OutboundTrunk | undefined> {
  if (!isE164(call.to)) return undefined;
  // A verified caller ID is no number of the account (no `number`): only the account's trunk applies.
  const trunk = await resolveOutboundTrunk(
    (name) => readTrunk(ctx.trunks, name),
    call.number,
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
