// sipp as a callee behind a trunk (a UAS on 127.0.0.3): what the outbound-call tests dial through
// the gateway. Resolves with sipp's exit when its one call is done (killed when the test ends).
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { freeUdpPort, SCENARIOS, type SippResult } from "./harness.js";

export const CALLEE_IP = "127.0.0.3";

export interface Uas {
  /** The SIP port it listens on (the trunk's port). */
  port: number;
  /** sipp's exit: 0 when every message came as its scenario says. */
  done: Promise<SippResult>;
}

export async function sippUas(scenario: string, keys: Record<string, string | number> = {}): Promise<Uas> {
  const port = await freeUdpPort(CALLEE_IP);
  const mediaPort = await freeUdpPort(CALLEE_IP);
  const args = [
    "-sf",
    join(SCENARIOS, scenario),
    "-i",
    CALLEE_IP,
    "-p",
    String(port),
    "-mp",
    String(mediaPort),
    "-m",
    "1",
    "-timeout",
    "40",
    "-timeout_error",
    "-nostdin",
    ...Object.entries(keys).flatMap(([k, v]) => ["-key", k, String(v)]),
  ];
  const child = spawn("sipp", args, { cwd: tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout = (stdout + c.toString()).slice(-20_000);
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-20_000);
  });
  const done = new Promise<SippResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { port, done };
}
