// Where a call's RTP goes and whose RTP it takes (symmetric RTP, RFC 4961's idea): our packets go
// to the address the peer's SDP names until the peer's own packets show where it really is (behind
// NAT, the source of its first packets), and only the peer's packets count. From anywhere else, a
// stranger who found the port would have its keys pressed in the call's IVR, its audio recorded as
// the caller's, and the call's outbound stream.
import { behindNat } from "./private-address.js";

export interface MediaAddress {
  address: string;
  port: number;
}

/**
 * Who may send a call's media besides the address its SDP names: the SIP peer the call's signalling
 * comes from (behind NAT, RTP comes from there and not from the private address in the SDP), and the
 * networks allowed to call (a carrier's media servers). Packets from any other address are dropped.
 */
export type MediaSources = (address: string) => boolean;

export class MediaPeer {
  /** Where our packets go; undefined until known (our offer went out in a 200, the answer is not back). */
  #remote: MediaAddress | undefined;
  /** Where the peer's SDP says its media is (`#remote` until a packet moves the stream). */
  #negotiated: MediaAddress | undefined;
  /**
   * Whether the stream has followed the peer's packets yet: `trusted` once one came from an address
   * that is the peer's, `learned` when the SDP names an address behind NAT and the first packet, from
   * anywhere, was taken for the peer's.
   */
  #latched: "no" | "learned" | "trusted" = "no";

  constructor(
    negotiated: MediaAddress | undefined,
    private readonly sources: MediaSources,
  ) {
    this.#remote = negotiated;
    this.#negotiated = negotiated;
  }

  get remote(): MediaAddress | undefined {
    return this.#remote;
  }

  /**
   * An SDP names `address` (an answer to our offer, a re-INVITE): where it moved, the stream goes
   * there and follows the peer's packets again. The same address again (a session refresh, RFC 4028)
   * changes nothing: the stream stays where the peer's packets took it, and no learning starts anew.
   */
  negotiate(address: MediaAddress): void {
    if (address.address === this.#negotiated?.address && address.port === this.#negotiated?.port) return;
    this.#remote = address;
    this.#negotiated = address;
    this.#latched = "no";
  }

  /**
   * Whether an RTP packet from `from` is the peer's, following it when it is the first: one from the
   * SDP's address, or from an address `sources` names, is; the first from anywhere is when the SDP
   * names an address behind NAT, and then that source is, until one of the peer's own is heard.
   */
  admit(from: MediaAddress): boolean {
    const negotiated = this.#negotiated;
    if (from.address === negotiated?.address || this.sources(from.address)) {
      if (this.#latched !== "trusted" && from.port > 0) {
        this.#latched = "trusted";
        // A peer that sends from one port and listens on another of the same host (split media
        // ports, sipp's pcap player) keeps its SDP's port: only another address moves the stream.
        this.#remote =
          from.address === negotiated?.address ? negotiated : { address: from.address, port: from.port };
      }
      return true;
    }
    if (this.#latched === "learned") return from.address === this.#remote?.address;
    if (this.#latched === "no" && from.port > 0 && negotiated && behindNat(negotiated.address)) {
      this.#latched = "learned";
      this.#remote = { address: from.address, port: from.port };
      return true;
    }
    return false;
  }
}
