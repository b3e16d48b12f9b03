// Who may place calls through the gateway: the gateway's own networks (`--allow` CIDRs) and the
// trunks' `--inbound-cidr` ranges, which follow `sb_trunks` as it changes. Everyone else gets 403.
import { BlockList, isIP } from "node:net";
import { parseCidr } from "../webhook/egress.js";

/** With no --allow, only the machine itself may call: a gateway on a public address is closed until told otherwise. */
export const DEFAULT_ALLOW = ["127.0.0.0/8", "::1/128"] as const;

export class InboundAccess {
  readonly #list = new BlockList();
  readonly #cidrs: string[] = [];
  /** The trunks' part, replaced whole when a trunk is added, changed or removed. */
  #trunks = new BlockList();
  #trunkCidrs: readonly string[] = [];

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

  /**
   * The trunks' inbound networks from now on, in place of the previous ones. A value that is not a
   * CIDR is left out (it was validated when written; one written by hand must not close the gateway).
   */
  setTrunks(cidrs: readonly string[]): string[] {
    const list = new BlockList();
    const kept: string[] = [];
    const refused: string[] = [];
    for (const cidr of cidrs) {
      try {
        const { net, prefix, type } = parseCidr(cidr);
        list.addSubnet(net, prefix, type);
        kept.push(cidr.trim());
      } catch {
        refused.push(cidr);
      }
    }
    this.#trunks = list;
    this.#trunkCidrs = kept;
    return refused;
  }

  /** The gateway's own networks. */
  get cidrs(): readonly string[] {
    return this.#cidrs;
  }

  /** The trunks' networks, as last set. */
  get trunkCidrs(): readonly string[] {
    return this.#trunkCidrs;
  }

  allows(address: string): boolean {
    // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d: judge the IPv4 address.
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    if (v4) return this.allows(v4);
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 4 ? "ipv4" : "ipv6";
    return this.#list.check(address, type) || this.#trunks.check(address, type);
  }
}
