// Addresses a peer behind NAT writes in its SDP and cannot be reached at from outside its network:
// RFC 1918 private use, RFC 6598 shared (carrier-grade NAT), link-local, and IPv6 unique-local and
// link-local. A call whose SDP names one has its media source learned from its first packets.
import { BlockList, isIP } from "node:net";

const BEHIND_NAT = new BlockList();
for (const [net, prefix] of [
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["100.64.0.0", 10],
  ["169.254.0.0", 16],
] as const)
  BEHIND_NAT.addSubnet(net, prefix, "ipv4");
BEHIND_NAT.addSubnet("fc00::", 7, "ipv6");
BEHIND_NAT.addSubnet("fe80::", 10, "ipv6");

/** Whether `address` is one only its own network reaches (see above). */
export function behindNat(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return BEHIND_NAT.check(address, family === 4 ? "ipv4" : "ipv6");
}
