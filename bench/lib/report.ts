// How the bench reports: every figure on one row with its baseline and its goal, and whether it met
// the goal; plus the machine it ran on, since on 2 shared cores the machine is half the result.
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  goal: string;
  /** undefined: the figure has no goal, or was not measured. */
  met?: boolean | undefined;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  natsServer: string;
  kernel: string;
  /** 1-minute load average when the bench started and ended: how busy the machine was otherwise. */
  loadAverage: { start: number; end?: number };
}

export function describeMachine(): Machine {
  let natsServer = "unknown";
  try {
    natsServer = execFileSync(process.env.NATS_SERVER_BIN || "nats-server", ["--version"], {
      encoding: "utf8",
    })
      .trim()
      .replace(/^nats-server:\s*/, "");
  } catch {
    // reported as unknown; the benches fail later with the launcher's own message
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    natsServer,
    kernel: `${process.platform} ${release()}`,
    loadAverage: { start: round2(loadavg()[0] ?? 0) },
  };
}

export function machineLine(m: Machine): string {
  return (
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB (${Math.round(freemem() / 2 ** 30)} free), ` +
    `Node ${m.node}, nats-server ${m.natsServer}, ${m.kernel}, load average ${m.loadAverage.start}` +
    (m.loadAverage.end !== undefined ? ` → ${m.loadAverage.end}` : "")
  );
}

export function formatTable(rows: Row[]): string {
  const cells = rows.map((r) => [
    r.figure,
    r.value,
    r.baseline,
    r.goal,
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ]);
  const head = ["figure", "switchboard", "baseline", "goal", "met"];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Writes `bench/results/<date>.json` (in the source tree, not dist) and returns its path. */
export async function writeResults(results: unknown, date = new Date()): Promise<string> {
  const dir = fileURLToPath(new URL("../../../bench/results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${date.toISOString().slice(0, 10)}.json`;
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
