// The media bench's receiver, in its own process so the bench's other work does not delay it: N UDP
// sockets standing in for the callers' RTP ports (the callers' SDP names them), each packet timed on
// arrival and checked (bench/sip/measure.ts). Driven over IPC: ports out; measure, report, reset in.
import { createSocket, type Socket } from "node:dgram";
import { parseRtp } from "../../src/sip/rtp/packet.js";
import { type AudioCounts, emptyCounts, IntervalHistogram, StreamTracker } from "./measure.js";

export type ReceiverCommand = { cmd: "measure"; on: boolean } | { cmd: "report" } | { cmd: "reset" };

export interface ReceiverReport {
  type: "report";
  intervals: ReturnType<IntervalHistogram["summary"]>;
  audio: AudioCounts;
  /** Streams that have received a prompt frame since the last reset. */
  playing: number;
}

const [count = "1", address = "127.0.0.3"] = process.argv.slice(2);
const send = (message: unknown) => process.send?.(message);

let intervals = new IntervalHistogram();
let counts = emptyCounts();
let trackers: StreamTracker[] = [];
let measuring = false;
const sockets: Socket[] = [];

function reset(): void {
  intervals = new IntervalHistogram();
  counts = emptyCounts();
  trackers = sockets.map(() => new StreamTracker(intervals, counts));
}

for (let i = 0; i < Number(count); i++) {
  const socket = createSocket({ type: "udp4", recvBufferSize: 1 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  sockets.push(socket);
  socket.on("message", (data) => {
    const at = performance.now();
    const p = parseRtp(data);
    if (p) trackers[i]?.packet(at, p.sequence, p.ssrc, p.payload, measuring);
  });
}
reset();

process.on("message", (m: ReceiverCommand) => {
  if (m.cmd === "measure") measuring = m.on;
  else if (m.cmd === "reset") reset();
  else
    send({
      type: "report",
      intervals: intervals.summary(),
      audio: counts,
      playing: trackers.filter((t) => t.playing).length,
    } satisfies ReceiverReport);
});
// The parent's end is ours: no orphan receiver holds a thousand ports.
process.on("disconnect", () => process.exit(0));
send({ type: "ports", ports: sockets.map((s) => s.address().port) });
console.log(JSON.stringify({ msg: "ready" }));
