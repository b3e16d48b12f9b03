// The media bench's reading of a tcpdump capture (bench/sip/wire.ts): the send intervals of every
// RTP stream from the kernel's timestamps, on captures whose answers are known.
import { describe, expect, it } from "vitest";
import { droppedOf, wireIntervals } from "../../bench/sip/wire.js";

interface Packet {
  /** ms since the capture's epoch */
  at: number;
  port: number;
  ssrc: number;
  seq: number;
  payloadType?: number;
  protocol?: number;
}

/** A little-endian pcap file of Ethernet frames (tcpdump on `lo`), ns timestamps when `nano`. */
function pcap(packets: Packet[], nano = true): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number) => out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const u16be = (v: number) => out.push((v >>> 8) & 0xff, v & 0xff);
  const u32be = (v: number) => out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  u32(nano ? 0xa1b23c4d : 0xa1b2c3d4);
  out.push(2, 0, 4, 0); // version 2.4
  u32(0);
  u32(0);
  u32(54); // snaplen
  u32(1); // LINKTYPE_ETHERNET
  for (const p of packets) {
    const sec = Math.floor(p.at / 1000);
    u32(sec);
    u32(Math.round((p.at - sec * 1000) * (nano ? 1e6 : 1e3)));
    u32(54);
    u32(214);
    out.push(...new Array(12).fill(0), 0x08, 0x00); // Ethernet: addresses, IPv4
    out.push(0x45, 0, 0, 200, 0, 0, 0, 0, 64, p.protocol ?? 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 3);
    u16be(30_000);
    u16be(p.port);
    u16be(180);
    u16be(0);
    out.push(0x80, p.payloadType ?? 0);
    u16be(p.seq);
    u32be(0);
    u32be(p.ssrc);
  }
  return Uint8Array.from(out);
}

describe("media bench at the wire", () => {
  it("pools every stream's intervals from the kernel's timestamps", () => {
    const packets: Packet[] = [];
    // Two streams, 51 packets each; the first has one frame 3 ms late (intervals 23 then 17).
    for (let i = 0; i <= 50; i++) {
      packets.push({ at: 1_000_000 + i * 20 + (i === 10 ? 3 : 0), port: 40_000, ssrc: 1, seq: i });
      packets.push({ at: 1_000_005.5 + i * 20, port: 40_002, ssrc: 2, seq: (65_530 + i) & 0xffff });
    }
    const { intervals, packets: counted } = wireIntervals(pcap(packets));
    expect(counted).toBe(102);
    expect(intervals.count).toBe(100);
    expect(intervals.mean).toBeCloseTo(20, 6);
    // Two intervals 3 ms off the mean among 100: stdev √(18/100).
    expect(intervals.stdev).toBeCloseTo(Math.sqrt(0.18), 4);
    expect(intervals.max).toBeCloseTo(23, 4);
    expect(intervals.p50).toBeCloseTo(20, 4);
  });

  it("reads microsecond captures as well as nanosecond ones", () => {
    const packets = [0, 1, 2].map((i) => ({ at: 5_000 + i * 21.25, port: 40_000, ssrc: 9, seq: i }));
    expect(wireIntervals(pcap(packets, false)).intervals.mean).toBeCloseTo(21.25, 3);
    expect(wireIntervals(pcap(packets, true)).intervals.mean).toBeCloseTo(21.25, 6);
  });

  it("makes no interval across a lost packet, a new SSRC, RTCP or another protocol", () => {
    const packets: Packet[] = [
      { at: 0, port: 40_000, ssrc: 1, seq: 1 },
      { at: 20, port: 40_000, ssrc: 1, seq: 2 },
      { at: 60, port: 40_000, ssrc: 1, seq: 4 }, // seq 3 lost: no 40 ms interval
      { at: 70, port: 40_000, ssrc: 1, seq: 5, payloadType: 72 }, // RTCP (SR): not a packet of the stream
      { at: 75, port: 40_000, ssrc: 1, seq: 5, protocol: 6 }, // TCP
      { at: 80, port: 40_000, ssrc: 7, seq: 5 }, // another sender on the same port
      { at: 100, port: 40_000, ssrc: 1, seq: 5 },
    ];
    const { intervals, packets: counted } = wireIntervals(pcap(packets));
    expect(counted).toBe(5);
    // 1→2 (20 ms) and 4→5 of SSRC 1 (40 ms, both arrived in order); SSRC 7's lone packet makes none.
    expect(intervals.count).toBe(2);
    expect(intervals.max).toBe(40);
  });

  it("refuses what is not a pcap file, and reads tcpdump's drop count", () => {
    expect(() => wireIntervals(new Uint8Array(24))).toThrow(/not a little-endian pcap/);
    expect(
      droppedOf("250 packets captured\n251 packets received by filter\n3 packets dropped by kernel\n"),
    ).toBe(3);
    expect(droppedOf("0 packets dropped by kernel")).toBe(0);
  });
});
