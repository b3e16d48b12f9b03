// The SIP gateway's copy of `sb_trunks`: outbound legs that name a trunk get its host and credentials
// from it, and the trunks' inbound networks join the gateway's access list, following every change.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { InboundAccess } from "../sip/inbound-access.js";
import { openTrunkStores } from "../store/global.js";
import { TrunkWatch } from "../store/trunks.js";

/**
 * Starts watching the trunks; undefined when the bucket cannot be read (no trunk configured yet and
 * no right to create it): the gateway then runs on `--allow` alone, and legs naming a trunk fail.
 */
export async function watchTrunks(
  nc: NatsConnection,
  access: InboundAccess,
  log: Logger,
): Promise<TrunkWatch | undefined> {
  let watch: TrunkWatch;
  try {
    watch = await TrunkWatch.start((await openTrunkStores(nc)).trunks.kv);
  } catch (err) {
    log.warn(
      { err },
      "cannot read the trunks (sb_trunks): calls through trunks and their inbound networks are off",
    );
    return undefined;
  }
  const apply = (cidrs: string[]) => {
    const refused = access.setTrunks(cidrs);
    if (refused.length > 0) log.warn({ refused }, "trunk networks that are not CIDRs were left out");
    log.info({ trunkNetworks: access.trunkCidrs }, "trunks' inbound networks");
  };
  apply(watch.inboundCidrs());
  watch.onChange = apply;
  return watch;
}
