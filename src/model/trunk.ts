// A SIP trunk (`sb_trunks`, key = its name): where a number's or account's calls to the outside world
// go, and which networks may place calls into the gateway. Validated when written and when read.
import { isIP } from "node:net";
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";

export const TRANSPORTS = ["udp", "tcp"] as const;
export type TrunkTransport = (typeof TRANSPORTS)[number];

/** The SIP port a trunk gets when `--host` names none (RFC 3261 §19.1.2, for UDP and TCP). */
export const DEFAULT_SIP_PORT = 5060;

/** A trunk's name: a KV key and a CLI argument, so lower-case letters, digits, '-' and '_'. */
export const TRUNK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A DNS name (RFC 1123 labels, at most 253 characters). */
const HOSTNAME =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export const TrunkRecordSchema = z.object({
  name: z.string().regex(TRUNK_NAME_PATTERN),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  transport: z.enum(TRANSPORTS),
  /** Digest credentials the trunk challenges outbound INVITEs with (401/407). */
  username: z.string().nullable(),
  /** A secret: never logged, never returned by the api (docs/security.md). */
  password: z.string().nullable(),
  /** The domain put in From of outbound calls (default: the host). */
  from_domain: z.string().nullable(),
  /** Networks the trunk's inbound calls come from, normalised (`a.b.c.d/n`). */
  inbound_cidrs: z.array(z.string()),
  date_created: z.string(),
  date_updated: z.string(),
});

export type TrunkRecord = z.infer<typeof TrunkRecordSchema>;

/** A trunk as shown to people and by the api: everything but the password, and whether it has one. */
export type TrunkView = Omit<TrunkRecord, "password"> & { has_password: boolean };

export function trunkView(t: TrunkRecord): TrunkView {
  const { password, ...rest } = t;
  return { ...rest, has_password: password !== null && password !== "" };
}

/** A stored value, or undefined when it is not a trunk (written by hand, or by a newer version). */
export function parseTrunkRecord(value: unknown): TrunkRecord | undefined {
  const parsed = TrunkRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export function checkTrunkName(name: string): string {
  if (!TRUNK_NAME_PATTERN.test(name)) {
    throw fail(
      "invalidParameter",
      `not a trunk name: ${JSON.stringify(name)} (lower-case letters, digits, '-' and '_', at most 63, e.g. carrier-1)`,
    );
  }
  return name;
}

/** `HOST[:PORT]`: a DNS name, an IPv4 address, or an IPv6 address in brackets (`[2001:db8::1]:5061`). */
export function parseHostPort(value: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  let host: string;
  let port: string | undefined;
  if (bracketed) {
    host = bracketed[1] as string;
    port = bracketed[2];
    if (isIP(host) !== 6) throw fail("invalidParameter", `not an IPv6 address in brackets: ${value}`);
  } else {
    if (value.split(":").length > 2) {
      throw fail("invalidParameter", `an IPv6 host goes in brackets, e.g. [2001:db8::1]:5060: ${value}`);
    }
    [host = "", port] = value.split(":");
    if (isIP(host) === 0 && (!HOSTNAME.test(host) || /^[\d.]+$/.test(host))) {
      throw fail("invalidParameter", `not a host name or IP address: ${JSON.stringify(host)}`);
    }
  }
  if (port === undefined) return { host: host.toLowerCase(), port: DEFAULT_SIP_PORT };
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65_535) {
    throw fail("invalidParameter", `not a port (1-65535): ${JSON.stringify(port)}`);
  }
  return { host: host.toLowerCase(), port: n };
}

export function checkTransport(value: string): TrunkTransport {
  const t = value.toLowerCase();
  if (!(TRANSPORTS as readonly string[]).includes(t)) {
    throw fail("invalidParameter", `transport must be udp or tcp, not ${JSON.stringify(value)}`);
  }
  return t as TrunkTransport;
}

export function checkFromDomain(value: string): string {
  if (isIP(value) === 0 && !HOSTNAME.test(value)) {
    throw fail("invalidParameter", `not a domain: ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

/**
 * A network as `a.b.c.d/n` or `x::/n` (a bare address is its own /32 or /128). Host bits set
 * (`10.0.0.5/24`) are refused: the operator meant either the address or the network, and says which.
 */
export function normalizeCidr(value: string): string {
  const [net = "", bits, extra] = value.trim().split("/");
  const family = isIP(net);
  if (family === 0 || extra !== undefined)
    throw fail("invalidParameter", `not a CIDR: ${JSON.stringify(value)}`);
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || prefix > max)) {
    throw fail("invalidParameter", `not a CIDR (prefix 0-${max}): ${JSON.stringify(value)}`);
  }
  const bytes = addressBytes(net, family);
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & (0xff << (8 - keep)) & 0xff;
  });
  if (masked.some((b, i) => b !== bytes[i])) {
    throw fail(
      "invalidParameter",
      `${value} has host bits set: the network is ${formatAddress(masked, family)}/${prefix}`,
    );
  }
  return `${formatAddress(masked, family)}/${prefix}`;
}

function addressBytes(address: string, family: number): number[] {
  if (family === 4) return address.split(".").map(Number);
  // Expand `::` and an embedded dotted IPv4 tail into 8 groups of 16 bits.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  let text = address;
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split(".").map(Number);
    text = `${address.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

function formatAddress(bytes: number[], family: number): string {
  if (family === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // The longest run of zero groups (two or more) becomes `::`, as RFC 5952 writes it.
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(":");
  return `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.len).join(":")}`;
}
