// Reads V8 CPU profiles (`node --cpu-prof`) and prints where the time went: the top functions by self
// time, and self time by package or source folder. `node dist/bench/profile-summary.js <file|dir>…`
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of samples spent in anything but (idle) and (program). */
  busyShare: number;
  topFunctions: { name: string; where: string; ms: number; share: number }[];
  byArea: { area: string; ms: number; share: number }[];
  /** switchboard's own functions (src/, machines/) by total time, callees included. */
  ownInclusive: { name: string; where: string; ms: number; share: number }[];
}

/** A frame's file (from its package or dist/ on) and line, as the summaries print it; "" for native code. */
export function whereOf(url: string, lineNumber: number): string {
  return url ? `${url.replace(/^.*\/(node_modules|dist)\//, "")}:${lineNumber + 1}` : "";
}

/** Where a frame's code lives: a package (`xstate`, `@nats-io/jetstream`), a source folder, or node. */
export function areaOf(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const src = /\/dist\/((?:src|machines|bench)\/[^/]+)/.exec(url)?.[1];
  return src ?? url;
}

export function summarize(file: string, profile: CpuProfile, top = 25): ProfileSummary {
  const totalUs = profile.endTime - profile.startTime;
  const perSampleUs = totalUs / Math.max(1, profile.samples.length);
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const fns = new Map<string, { name: string; where: string; hits: number }>();
  const areas = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? 0;
    if (n === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || "(anonymous)";
    if (name !== "(idle)" && name !== "(program)") busy += n;
    const where = whereOf(url, lineNumber);
    const key = `${name} ${where}`;
    const fn = fns.get(key) ?? { name, where, hits: 0 };
    fn.hits += n;
    fns.set(key, fn);
    const area = areaOf(url, name);
    areas.set(area, (areas.get(area) ?? 0) + n);
  }
  const all = Math.max(1, profile.samples.length);
  const own = ownInclusive(profile, hits);
  const ms = (h: number) => Math.round((h * perSampleUs) / 100) / 10;
  const share = (h: number) => Math.round((h / all) * 1000) / 10;
  return {
    file: basename(file),
    totalMs: Math.round(totalUs / 1000),
    busyShare: share(busy),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: ms(f.hits), share: share(f.hits) })),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, h]) => ({ area, ms: ms(h), share: share(h) })),
    ownInclusive: [...own.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: ms(f.hits), share: share(f.hits) })),
  };
}

/** Samples under each of our own functions, callees included; a recursive frame counts once per stack. */
function ownInclusive(profile: CpuProfile, hits: Map<number, number>) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, { name: string; where: string; hits: number }>();
  const inclusive = new Map<number, number>();
  const total = (id: number): number => {
    const known = inclusive.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    let sum = hits.get(id) ?? 0;
    for (const c of node?.children ?? []) sum += total(c);
    inclusive.set(id, sum);
    return sum;
  };
  const walk = (id: number, onStack: Set<string>) => {
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const mine = /\/dist\/(src|machines)\//.test(url);
    const key = `${functionName || "(anonymous)"} ${url.replace(/^.*\/dist\//, "")}:${lineNumber + 1}`;
    const counted = mine && !onStack.has(key);
    if (counted) {
      const t = totals.get(key) ?? {
        name: functionName || "(anonymous)",
        where: `${url.replace(/^.*\/dist\//, "")}:${lineNumber + 1}`,
        hits: 0,
      };
      t.hits += total(id);
      totals.set(key, t);
      onStack.add(key);
    }
    for (const c of node.children ?? []) walk(c, onStack);
    if (counted) onStack.delete(key);
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  return totals;
}

export async function summarizeFiles(paths: string[], top = 25): Promise<ProfileSummary[]> {
  const files: string[] = [];
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) {
      for (const f of (await readdir(p)).sort()) if (f.endsWith(".cpuprofile")) files.push(join(p, f));
    } else files.push(p);
  }
  return Promise.all(
    files.map(async (f) => summarize(f, JSON.parse(await readFile(f, "utf8")) as CpuProfile, top)),
  );
}

export function formatSummary(s: ProfileSummary): string {
  const lines = [`${s.file}: ${s.totalMs} ms profiled, ${s.busyShare}% busy`, "  self time by area:"];
  for (const a of s.byArea) lines.push(`    ${a.share.toFixed(1).padStart(5)}%  ${a.area}`);
  lines.push("  switchboard's functions by total time (callees included):");
  for (const f of s.ownInclusive) lines.push(`    ${f.share.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
  lines.push("  top functions by self time:");
  for (const f of s.topFunctions) {
    lines.push(`    ${f.share.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    process.stderr.write("usage: node dist/bench/profile-summary.js <file.cpuprofile|dir>…\n");
    process.exit(2);
  }
  for (const s of await summarizeFiles(args)) process.stdout.write(`${formatSummary(s)}\n\n`);
}
