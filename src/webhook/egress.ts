// Where webhooks may go. A tenant's voice URL must not make the engine request internal services,
// so private, loopback and link-local addresses are refused unless allowed (`up` allows loopback
// for local development). Checked on the address actually connected to — after DNS, on every
// redirect hop — so a name that resolves (or re-resolves) to an internal address is refused too.
// A policy is a value: the WebhookClient that holds it applies it (no process-wide policy).
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { fail } from "../errors/switchboard-error.js";
import { embeddedIPv4, mappedIPv4 } from "./embedded-ipv4.js";
import { netAndPrefix, SPECIAL_IPV4, SPECIAL_IPV6 } from "./special-ranges.js";

// Every special-purpose block (IANA's registries, src/webhook/special-ranges.ts), as [net, prefix].
const INTERNAL_V4 = SPECIAL_IPV4.map((r) => netAndPrefix(r.cidr));
// Not ::ffff:0:0/96 itself: a mapped address is judged as its IPv4 address (allows()), and node's
// BlockList would match every IPv4 address against that row.
const INTERNAL_V6 = SPECIAL_IPV6.map((r) => netAndPrefix(r.cidr)).filter(([net]) => !mappedIPv4(net));

/** How many addresses' answers a policy keeps (egress.allows). */
const MAX_ANSWERS = 4096;

/** A CIDR such as `127.0.0.0/8` or `::1/128`. */
export function parseCidr(cidr: string): { net: string; prefix: number; type: "ipv4" | "ipv6" } {
  const [net = "", bits] = cidr.trim().split("/");
  const family = isIP(net);
  if (family === 0) throw new Error(`not an IP network: ${cidr}`);
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`bad prefix length: ${cidr}`);
  return { net, prefix, type: family === 4 ? "ipv4" : "ipv6" };
}

export class EgressPolicy {
  readonly #deny = new BlockList();
  readonly #allow = new BlockList();
  /**
   * Answers already given, by address: a policy never changes, and BlockList.check builds a
   * SocketAddress for each question (most of a webhook's egress check in the worker's profile).
   */
  readonly #answers = new Map<string, boolean>();
  readonly description: string;

  private constructor(description: string) {
    this.description = description;
  }

  /** Any address: for tests and programs that set their own policy. */
  static allowAll(): EgressPolicy {
    return new EgressPolicy("any address");
  }

  /** Internal addresses refused, except those in `allow` (CIDRs). */
  static internalDenied(allow: readonly string[] = []): EgressPolicy {
    const p = new EgressPolicy(
      allow.length ? `public addresses and ${allow.join(", ")}` : "public addresses only",
    );
    for (const [net, prefix] of INTERNAL_V4) p.#deny.addSubnet(net, prefix, "ipv4");
    for (const [net, prefix] of INTERNAL_V6) p.#deny.addSubnet(net, prefix, "ipv6");
    for (const cidr of allow) {
      const { net, prefix, type } = parseCidr(cidr);
      p.#allow.addSubnet(net, prefix, type);
    }
    return p;
  }

  allows(address: string): boolean {
    const known = this.#answers.get(address);
    if (known !== undefined) return known;
    const answer = this.#judge(address);
    // Bounded: a flood of distinct addresses only empties the memo, never grows it past this.
    if (this.#answers.size >= MAX_ANSWERS) this.#answers.clear();
    this.#answers.set(address, answer);
    return answer;
  }

  #judge(address: string): boolean {
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    // IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address itself: judged as that alone.
    const mapped = mappedIPv4(address);
    if (mapped) return this.allows(mapped);
    // Any other form that carries IPv4 (compatible, NAT64, 6to4, Teredo) must pass on its own block
    // and on every address it carries, so allowing a translator's prefix never opens 10/8 behind it.
    const own = this.#allow.check(address, type) || !this.#deny.check(address, type);
    return own && embeddedIPv4(address).every((v4) => this.allows(v4));
  }

  /** A DNS lookup for sockets that fails with code EEGRESS when no resolved address is allowed. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 4);
      const allowed = addresses.filter((a) => this.allows(a.address));
      if (allowed.length === 0) {
        const refused = Object.assign(
          new Error(`${hostname} resolves only to addresses the egress policy refuses`),
          {
            code: "EEGRESS",
          },
        );
        return callback(refused, "", 4);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      const first = allowed[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/** Throws 11200 unless the URL's host, when it is an IP literal, is allowed (names are checked at lookup). */
export function assertEgressAllowed(policy: EgressPolicy, u: URL): void {
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0 && !policy.allows(host)) {
    throw fail("httpRetrievalFailure", `${u.origin} is refused by the egress policy (${policy.description})`);
  }
}
