// The parties of the <Dial> tests: sipp as the dialed callee (a UAS on 127.0.0.3), the two test signals
// the caller and the callee send (distinct chirps, so what each hears is told apart by content), and a
// correlation of what arrived against what was sent.
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { alawToLinear, linearToAlaw, linearToUlaw, ulawToLinear } from "../../src/sip/rtp/g711.js";
import type { RtpPacket } from "../../src/sip/rtp/packet.js";
import { freeUdpPort, SCENARIOS, type SippResult } from "./harness.js";

export const CALLEE_IP = "127.0.0.3";
const RATE = 8000;

/** A chirp from `f0` to `f1` Hz over `seconds`, at 40% of full scale. */
export function chirp(f0: number, f1: number, seconds: number): Int16Array {
  const n = Math.round(seconds * RATE);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const phase = 2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds));
    out[i] = Math.round(13_000 * Math.sin(phase));
  }
  return out;
}

export const CALLER_SIGNAL = chirp(300, 2400, 2);
export const CALLEE_SIGNAL = chirp(2600, 500, 2);

/** A working directory holding caller.ulaw and callee.alaw (raw G.711, as sipp's rtp_stream sends it). */
export async function signalDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sb-dial-"));
  await writeFile(
    join(dir, "caller.ulaw"),
    Uint8Array.from(CALLER_SIGNAL, (s) => linearToUlaw(s)),
  );
  await writeFile(
    join(dir, "callee.alaw"),
    Uint8Array.from(CALLEE_SIGNAL, (s) => linearToAlaw(s)),
  );
  return dir;
}

/** The PCM of the packets' payloads, in sequence order (each decoded by its own payload type). */
export function pcmOf(packets: readonly RtpPacket[]): Int16Array {
  const sorted = [...packets].filter((p) => p.payloadType === 0 || p.payloadType === 8);
  const out = new Int16Array(sorted.reduce((n, p) => n + p.payload.length, 0));
  let at = 0;
  for (const p of sorted) {
    const decode = p.payloadType === 0 ? ulawToLinear : alawToLinear;
    for (const b of p.payload) out[at++] = decode(b);
  }
  return out;
}

/** The best normalised correlation of `sent` with any stretch of `heard` (1 is the same audio). */
export function correlation(heard: Int16Array, sent: Int16Array): number {
  let sentEnergy = 0;
  for (const s of sent) sentEnergy += s * s;
  // Coarse search every 4 samples, then refined around the best: a few million multiplications.
  const at = (lag: number) => {
    let dot = 0;
    let energy = 0;
    for (let i = 0; i < sent.length; i++) {
      const h = heard[lag + i] ?? 0;
      dot += h * (sent[i] as number);
      energy += h * h;
    }
    return energy === 0 ? 0 : dot / Math.sqrt(energy * sentEnergy);
  };
  let best = 0;
  let bestLag = 0;
  const last = heard.length - sent.length;
  for (let lag = 0; lag <= last; lag += 4) {
    const c = at(lag);
    if (c > best) [best, bestLag] = [c, lag];
  }
  for (let lag = Math.max(0, bestLag - 4); lag <= Math.min(last, bestLag + 4); lag++)
    best = Math.max(best, at(lag));
  return best;
}

export interface Callee {
  port: number;
  /** Resolves when sipp exits. */
  result: Promise<SippResult>;
}

/**
 * Starts sipp as the dialed callee running `scenario` once; resolves once it listens. Its ports are
 * picked free and then bound by sipp (video RTP on the media port + 2 too), so one taken meanwhile by
 * a parallel test is tried again with others, a few times.
 */
export async function sippCallee(
  scenario: string,
  opts: { cwd: string; keys?: Record<string, string | number>; timeoutS?: number },
): Promise<Callee> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startCallee(scenario, opts);
    } catch (err) {
      if (attempt === 3 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

async function startCallee(
  scenario: string,
  opts: { cwd: string; keys?: Record<string, string | number>; timeoutS?: number },
): Promise<Callee> {
  const port = await freeUdpPort(CALLEE_IP);
  const mediaPort = await freeUdpPort(CALLEE_IP);
  const keys = { rtpport: mediaPort, ...opts.keys };
  const args = [
    ...["-sf", join(SCENARIOS, scenario), "-i", CALLEE_IP, "-p", String(port)],
    ...["-mi", CALLEE_IP, "-mp", String(mediaPort), "-m", "1"],
    ...["-timeout", String(opts.timeoutS ?? 30), "-timeout_error", "-nostdin"],
    ...Object.entries(keys).flatMap(([k, v]) => ["-key", k, String(v)]),
  ];
  const child = spawn("sipp", args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  });
  child.stderr.on("data", (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  });
  const result = new Promise<SippResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: out, stderr: "" }));
  });
  // Listening once its SIP port is taken (sipp binds within a moment of starting).
  const deadline = Date.now() + 10_000;
  while (!(await udpTaken(CALLEE_IP, port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`sipp callee did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, result };
}

function udpTaken(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.once("error", () => resolve(true));
    s.bind(port, address, () => s.close(() => resolve(false)));
  });
}
