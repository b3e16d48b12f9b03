// The RTP send interval at the wire: tcpdump on the loopback interface records each packet with the
// kernel's timestamp, taken as the sender's send() hands it to the interface. The receiver
// (receiver.ts) times a packet when its own event loop gets to it, so its intervals add that
// process's scheduling to the sender's: on this 2-core machine the plain sender's p99 there moved
// between 21.1 and 24 ms from run to run. The wire measures the sender alone, which is what the
// issue's goal is about (the send interval's stdev and p99). Both are reported.
//
// Needs tcpdump and the right to capture (root, or CAP_NET_RAW); without them the bench says so
// and reports the receiver's figures only. BENCH_SIP_WIRE=0 leaves it off.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { IntervalHistogram, type IntervalSummary } from "./measure.js";

export interface WireReport {
  intervals: IntervalSummary;
  /** RTP packets in the capture (G.711 only: RTCP and anything else is left out). */
  packets: number;
  /** Packets the kernel dropped before tcpdump read them (then the figures miss intervals). */
  dropped: number;
}

export interface WireCapture {
  /** Stops the capture and reads it; undefined when tcpdump failed. */
  stop(): Promise<WireReport | undefined>;
}

/** tcpdump's link types: how many bytes come before the IPv4 header. */
const LINK_HEADER: Record<number, number> = { 0: 4, 1: 14, 101: 0, 113: 16, 276: 20 };

/**
 * Every stream's intervals in a pcap file (little-endian, µs or ns timestamps), pooled: a stream is
 * a destination port and SSRC, and only consecutive sequence numbers make an interval, as at the
 * receiver. Only G.711 packets (payload type 0 or 8, RTP version 2) count.
 */
export function wireIntervals(pcap: Uint8Array): { intervals: IntervalSummary; packets: number } {
  const view = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const magic = view.getUint32(0, true);
  const nano = magic === 0xa1b23c4d;
  if (!nano && magic !== 0xa1b2c3d4)
    throw new Error(`not a little-endian pcap file (magic ${magic.toString(16)})`);
  const skip = LINK_HEADER[view.getUint32(20, true)];
  if (skip === undefined) throw new Error(`unknown pcap link type ${view.getUint32(20, true)}`);
  const histogram = new IntervalHistogram();
  const last = new Map<string, { at: number; seq: number }>();
  let packets = 0;
  for (let off = 24; off + 16 <= pcap.byteLength; ) {
    const at = view.getUint32(off, true) * 1000 + view.getUint32(off + 4, true) / (nano ? 1e6 : 1e3);
    const length = view.getUint32(off + 8, true);
    const ip = off + 16 + skip;
    off += 16 + length;
    if (off > pcap.byteLength || ip + 20 > off) continue;
    const udp = ip + ((view.getUint8(ip) & 0x0f) << 2);
    const rtp = udp + 8;
    if (view.getUint8(ip + 9) !== 17 || rtp + 12 > off) continue;
    const payloadType = view.getUint8(rtp + 1) & 0x7f;
    if (view.getUint8(rtp) >> 6 !== 2 || (payloadType !== 0 && payloadType !== 8)) continue;
    packets++;
    const stream = `${view.getUint16(udp + 2)}/${view.getUint32(rtp + 8)}`;
    const seq = view.getUint16(rtp + 2);
    const before = last.get(stream);
    if (before && ((seq - before.seq) & 0xffff) === 1) histogram.add(at - before.at);
    last.set(stream, { at, seq });
  }
  return { intervals: histogram.summary(), packets };
}

/** The kernel's drop count, from what tcpdump prints as it stops. */
export function droppedOf(stderr: string): number {
  return Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0);
}

/**
 * Starts capturing UDP to `to` (the receiver's address: only the measured sender sends there) on the
 * loopback interface into `file`, and resolves once tcpdump listens; undefined (with the reason said)
 * when it cannot.
 */
export async function startWireCapture(
  file: string,
  to: string,
  say: (line: string) => void,
): Promise<WireCapture | undefined> {
  // 54 bytes: Ethernet, IPv4, UDP and the RTP header, all the intervals need.
  const args = ["-i", "lo", "-n", "-B", "65536", "-s", "54", "--time-stamp-precision=nano", "-w", file];
  let child: ChildProcess;
  try {
    child = spawn("tcpdump", [...args, `udp and dst host ${to}`], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    say(`  (no capture at the wire: ${(err as Error).message})`);
    return undefined;
  }
  // A bench that exits (or is stopped by a signal: exit-on-signal.ts) takes its capture with it.
  // tcpdump is not tied to the bench as its other processes are: tied, it still outlived a killed
  // bench (it changes its user once it listens, and the kernel clears the parent-death signal then).
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", () => resolve(-1));
    child.on("close", (code) => resolve(code));
  }).finally(() => process.off("exit", killOnExit));
  // Listening once tcpdump says so; not if it exits first or stays silent for 5 s.
  let timer: NodeJS.Timeout | undefined;
  const listening = await Promise.race([
    new Promise<boolean>((resolve) => {
      child.stderr?.on("data", () => /listening on/.test(stderr) && resolve(true));
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 5_000);
    }),
  ]);
  clearTimeout(timer);
  if (!listening) {
    child.kill("SIGKILL");
    await exited;
    say(`  (no capture at the wire: tcpdump said ${JSON.stringify(stderr.trim().slice(0, 200))})`);
    return undefined;
  }
  return {
    async stop() {
      child.kill("SIGINT");
      await exited;
      try {
        const { intervals, packets } = wireIntervals(await readFile(file));
        return { intervals, packets, dropped: droppedOf(stderr) };
      } catch (err) {
        say(`  (the capture at the wire could not be read: ${(err as Error).message})`);
        return undefined;
      } finally {
        await rm(file, { force: true });
      }
    },
  };
}
