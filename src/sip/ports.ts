// Ports the gateway takes: one RTP port per call from its range (even ports, bound on the SIP
// address), and a check that the SIP port is free on UDP and TCP before the sip package binds it
// (the package reports no failure to bind, and crashes on it).
import { createSocket, type Socket } from "node:dgram";
import { type LookupOptions, lookup } from "node:dns";
import { createServer, isIPv4 } from "node:net";

/**
 * An RTP socket's address lookup: an IPv4 literal (what SDP names) is used as it is, at once. Node's
 * default goes through dns.lookup, which answers even a literal on the next tick: every packet sent
 * cost a tick and a closure, and left the pacer's turn (issue #20's media bench: ~15 % of the gateway).
 */
const literalLookup = ((address: string, options: unknown, callback: (...args: unknown[]) => void) => {
  if (isIPv4(address)) callback(null, address, 4);
  else lookup(address, options as LookupOptions, callback as never);
}) as unknown as typeof lookup;

export class RtpPorts {
  #next: number;

  constructor(
    private readonly range: readonly [number, number],
    private readonly address: string,
  ) {
    this.#next = range[0] + (range[0] % 2);
  }

  /** A bound UDP socket on the next free even port, going round the range. */
  async allocate(): Promise<Socket> {
    const [lo, hi] = this.range;
    const count = Math.floor((hi - lo) / 2) + 1;
    let last: Error | undefined;
    for (let i = 0; i < count; i++) {
      const port = this.#next;
      this.#next = port + 2 > hi ? lo + (lo % 2) : port + 2;
      const socket = createSocket({ type: "udp4", lookup: literalLookup });
      const bound = await new Promise<boolean>((resolve) => {
        socket.once("error", (err) => {
          last = err;
          resolve(false);
        });
        socket.bind(port, this.address, () => resolve(true));
      });
      if (bound) return socket;
      socket.close();
    }
    // The last refusal says why (every port taken, or not one bindable on this address).
    throw new Error(`no free RTP port in ${lo}-${hi} on ${this.address}: ${last?.message}`);
  }
}

export function assertTcpFree(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", (err) =>
      reject(new Error(`cannot listen for SIP over TCP on ${address}:${port}: ${err.message}`)),
    );
    s.listen(port, address, () => s.close(() => resolve()));
  });
}

export function assertUdpFree(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", (err) =>
      reject(new Error(`cannot listen for SIP on ${address}:${port}: ${err.message}`)),
    );
    s.bind(port, address, () => s.close(() => resolve()));
  });
}
