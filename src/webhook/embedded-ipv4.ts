// The IPv4 address an IPv6 address carries, for the forms that make a host connect (or a translator
// or relay forward) to that IPv4 address: mapped, compatible, translated, NAT64 (RFC 6052), 6to4 and
// Teredo. The egress policy judges the carried address too, so allowing a translator's prefix never
// opens the private networks behind it.
import { isIP } from "node:net";

/** The eight 16-bit groups of an IPv6 literal (zone id dropped), or undefined if it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  const text = address.replace(/%.*$/, "");
  if (isIP(text) !== 6) return undefined;
  // A dotted tail (::ffff:1.2.3.4) is two groups written another way.
  const tail = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) =>
    [(+a << 8) | +b, (+c << 8) | +d].map((n) => n.toString(16)).join(":"),
  );
  const [head = "", rest] = tail.split("::");
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16)));
  const front = parse(head);
  const back = parse(rest ?? "");
  const fill = rest === undefined ? 0 : 8 - front.length - back.length;
  const groups = [...front, ...Array<number>(fill).fill(0), ...back];
  return groups.length === 8 ? groups : undefined;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/** The IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), which is that IPv4 address. */
export function mappedIPv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  return g?.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff
    ? v4(g[6] as number, g[7] as number)
    : undefined;
}

/**
 * Every IPv4 address `address` carries other than as a mapped address (Teredo carries two: its
 * server and its client).
 */
export function embeddedIPv4(address: string): string[] {
  const g = ipv6Groups(address);
  if (!g) return [];
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  // ::a.b.c.d (compatible), ::ffff:0:a.b.c.d (translated); not :: or ::1.
  if (zeroTo(5) && g5 === 0 && (g6 !== 0 || g7 > 1)) return [v4(g6, g7)];
  if (zeroTo(4) && g4 === 0xffff && g5 === 0) return [v4(g6, g7)];
  // NAT64 well-known prefix 64:ff9b::/96: the last 32 bits.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return [v4(g6, g7)];
  // Local-use NAT64 64:ff9b:1::/48 (RFC 8215), a /48 under RFC 6052 §2.2: bits 48–63 and 72–87.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return [v4(g3, ((g4 & 0xff) << 8) | (g5 >> 8))];
  // 6to4 2002:AABB:CCDD::/48.
  if (g0 === 0x2002) return [v4(g1, g2)];
  // Teredo 2001:0::/32: the server's address, then the client's, stored inverted (RFC 4380 §4).
  if (g0 === 0x2001 && g1 === 0) return [v4(g2, g3), v4(g6 ^ 0xffff, g7 ^ 0xffff)];
  return [];
}
