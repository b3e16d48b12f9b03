// Who may place calls through the gateway: a list of networks (the gateway's `--allow` CIDRs; a
// trunk's `--inbound-cidr` ranges join the same list with `add`). Everyone else gets 403.
import { BlockList, isIP } from "node:net";
import { parseCidr } from "../webhook/egress.js";

/** With no --allow, only the machine itself may call: a gateway on a public address is closed until told otherwise. */
export const DEFAULT_ALLOW = ["127.0.0.0/8", "::1/128"] as const;

export class InboundAccess {
  readonly #list = new BlockList();
  readonly #cidrs: string[] = [];

  constructor(cidrs: readonly string[] = DEFAULT_ALLOW) {
    this.add(cidrs);
  }

  /** Networks allowed from now on (throws on one that is not a CIDR or an address). */
  add(cidrs: readonly string[]): void {
    for (const cidr of cidrs) {
      const { net, prefix, type } = parseCidr(cidr);
      this.#list.addSubnet(net, prefix, type);
      this.#cidrs.push(cidr.trim());
    }
  }

  get cidrs(): readonly string[] {
    return this.#cidrs;
  }

  allows(address: string): boolean {
    // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d: judge the IPv4 address.
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (v4) return this.allows(v4);
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}
