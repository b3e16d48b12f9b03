// Reads the gateway's pacer trace (SWITCHBOARD_PACER_TRACE, set by BENCH_SIP_TRACE) and says where the
// late turns come from: lateness per frame, turn length, and for late turns what the loop did between
// the previous turn's end and this one's start (GC, inbound RTP, other work, idle).
import { readFile } from "node:fs/promises";

interface Trace {
  due: number[];
  start: number[];
  end: number[];
  frames: number[];
  streams: number[];
  idle: number[];
  inbound: number[];
  inboundCount: number[];
  /** Triples: start, duration, kind (1 minor/scavenge, 2 major, 4 incremental, 8 weak callbacks). */
  gc: number[];
}

const pct = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
const f2 = (x: number) => x.toFixed(2);

/** The steady state: turns while the most streams were paced, from `skipMs` after they first were. */
export function summarizeTrace(t: Trace, skipMs = 3_000): string[] {
  const max = Math.max(...t.streams);
  const first = t.streams.indexOf(max);
  const from = t.start[first] as number;
  const idx: number[] = [];
  for (let i = first; i < t.start.length; i++) {
    if ((t.streams[i] as number) < max) break;
    if ((t.start[i] as number) >= from + skipMs) idx.push(i);
  }
  if (idx.length === 0) return ["pacer trace: no steady state"];
  const span = (t.end[idx.at(-1) as number] as number) - (t.start[idx[0] as number] as number);
  // Lateness per frame: each frame of a turn waited start − due (the turn's slot) at least.
  const late: number[] = [];
  const lengths: number[] = [];
  for (const i of idx) {
    const l = (t.start[i] as number) - (t.due[i] as number);
    for (let k = 0; k < (t.frames[i] as number); k++) late.push(l);
    lengths.push((t.end[i] as number) - (t.start[i] as number));
  }
  late.sort((a, b) => a - b);
  lengths.sort((a, b) => a - b);
  const gcs: { start: number; end: number; kind: number }[] = [];
  for (let g = 0; g < t.gc.length; g += 3)
    gcs.push({
      start: t.gc[g] as number,
      end: (t.gc[g] as number) + (t.gc[g + 1] as number),
      kind: t.gc[g + 2] as number,
    });
  const inSpan = gcs.filter(
    (g) =>
      g.start >= (t.start[idx[0] as number] as number) && g.end <= (t.end[idx.at(-1) as number] as number),
  );
  const gcMs = inSpan.reduce((s, g) => s + g.end - g.start, 0);
  const out = [
    `pacer trace: ${idx.length} turns over ${(span / 1000).toFixed(1)} s with ${max} streams (${(idx.length / (span / 1000)).toFixed(0)} turns/s, ${f2(late.length / idx.length)} frames a turn)`,
    `  frame lateness vs its slot, ms: p50 ${f2(pct(late, 0.5))} p90 ${f2(pct(late, 0.9))} p99 ${f2(pct(late, 0.99))} p99.9 ${f2(pct(late, 0.999))} max ${f2(late.at(-1) as number)}`,
    `  turn length, ms: p50 ${f2(pct(lengths, 0.5))} p99 ${f2(pct(lengths, 0.99))} max ${f2(lengths.at(-1) as number)}`,
    `  GC: ${inSpan.length} pauses, ${f2(gcMs)} ms (${f2((100 * gcMs) / span)} % of the time); by kind ${JSON.stringify(countBy(inSpan.map((g) => g.kind)))}; longest ${f2(Math.max(0, ...inSpan.map((g) => g.end - g.start)))} ms`,
  ];
  // Late turns: what filled the gap between the previous turn's end and this start.
  for (const threshold of [2, 4]) {
    let n = 0;
    let frames = 0;
    const sum = { gc: 0, inbound: 0, idle: 0, other: 0, timerSlack: 0 };
    let withGc = 0;
    for (const i of idx) {
      const lateness = (t.start[i] as number) - (t.due[i] as number);
      if (lateness < threshold) continue;
      n++;
      frames += t.frames[i] as number;
      const gapStart = t.end[i - 1] as number;
      const gapEnd = t.start[i] as number;
      const gc = inSpan.reduce(
        (s, g) => s + Math.max(0, Math.min(g.end, gapEnd) - Math.max(g.start, gapStart)),
        0,
      );
      if (gc > 0) withGc++;
      const gap = gapEnd - gapStart;
      const idle = t.idle[i] as number;
      const inbound = t.inbound[i] as number;
      sum.gc += gc;
      sum.inbound += inbound;
      sum.idle += idle;
      sum.other += Math.max(0, gap - idle - inbound - gc);
    }
    out.push(
      `  turns ≥ ${threshold} ms late: ${n} (${f2((100 * frames) / late.length)} % of frames); ${withGc} overlap a GC; mean per late turn, ms: gap since last turn ${f2((sum.gc + sum.inbound + sum.idle + sum.other) / Math.max(1, n))} = GC ${f2(sum.gc / Math.max(1, n))} + inbound RTP ${f2(sum.inbound / Math.max(1, n))} + other work ${f2(sum.other / Math.max(1, n))} + idle ${f2(sum.idle / Math.max(1, n))}`,
    );
  }
  return out;
}

function countBy(xs: number[]): Record<string, number> {
  const r: Record<string, number> = {};
  for (const x of xs) r[x] = (r[x] ?? 0) + 1;
  return r;
}

export async function summarizeTraceFile(file: string): Promise<string[]> {
  return summarizeTrace(JSON.parse(await readFile(file, "utf8")) as Trace);
}

if (process.argv[1]?.endsWith("pacer-trace.js") && process.argv[2])
  for (const line of await summarizeTraceFile(process.argv[2])) process.stdout.write(`${line}\n`);
