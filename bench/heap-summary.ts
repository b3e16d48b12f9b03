// Reads sampling heap profiles (bench/lib/heap-sampling.ts, or any `.heapprofile`) and says what a
// process allocated per call: in all, by package or source folder, and by the functions that
// allocated most. `node dist/bench/heap-summary.js <file> <calls>` reads one.
import { readFile } from "node:fs/promises";
import { areaOf, whereOf } from "./profile-summary.js";

export interface HeapProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: HeapProfileNode[];
}

export interface HeapProfile {
  head: HeapProfileNode;
}

export interface HeapSummary {
  /** KiB allocated per call, in all. */
  kibPerCall: number;
  byArea: { area: string; kibPerCall: number }[];
  topFunctions: { name: string; where: string; kibPerCall: number }[];
}

export function summarizeHeap(profile: HeapProfile, calls: number, top = 12): HeapSummary {
  let total = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, { name: string; where: string; bytes: number }>();
  const stack: HeapProfileNode[] = [profile.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    stack.push(...(node.children ?? []));
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    const area = areaOf(url, name);
    areas.set(area, (areas.get(area) ?? 0) + node.selfSize);
    const where = whereOf(url, lineNumber);
    const key = `${name} ${where}`;
    const fn = fns.get(key) ?? { name, where, bytes: 0 };
    fn.bytes += node.selfSize;
    fns.set(key, fn);
  }
  const kib = (bytes: number) => Math.round((bytes / Math.max(1, calls) / 1024) * 10) / 10;
  return {
    kibPerCall: kib(total),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, bytes]) => ({ area, kibPerCall: kib(bytes) })),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, kibPerCall: kib(f.bytes) })),
  };
}

export function formatHeapSummary(label: string, s: HeapSummary): string {
  const lines = [`${label}: ${s.kibPerCall} KiB allocated per call`, "  by area:"];
  for (const a of s.byArea) lines.push(`    ${a.kibPerCall.toFixed(1).padStart(7)} KiB  ${a.area}`);
  lines.push("  by function (self):");
  for (const f of s.topFunctions)
    lines.push(`    ${f.kibPerCall.toFixed(1).padStart(7)} KiB  ${f.name}  ${f.where}`);
  return lines.join("\n");
}

export async function readHeapProfile(file: string): Promise<HeapProfile> {
  return JSON.parse(await readFile(file, "utf8")) as HeapProfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, calls] = process.argv.slice(2);
  if (!file) throw new Error("usage: heap-summary.js <file.heapprofile> [calls]");
  process.stdout.write(
    `${formatHeapSummary(file, summarizeHeap(await readHeapProfile(file), Number(calls ?? 1)))}\n`,
  );
}
