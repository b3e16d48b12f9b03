// What the SIP tests share: a gateway in the test process beside the test engine, a free SIP port,
// a UDP socket standing in for the caller's phone's RTP port, and sipp run as the caller.
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { onTestFinished } from "vitest";
import { type GatewayOptions, SipGateway } from "../../src/sip/gateway.js";
import { linearToUlaw } from "../../src/sip/rtp/g711.js";
import { parseRtp, type RtpPacket } from "../../src/sip/rtp/packet.js";
import { type CliProcess, startCli } from "../helpers/cli.js";
import type { TestEngine } from "../helpers/engine.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

export const SCENARIOS = dirname(fileURLToPath(import.meta.url));
/** sipp runs on another loopback address: the sip package misroutes in-dialog requests to its own. */
export const SIPP_IP = "127.0.0.2";

export async function freeUdpPort(address: string): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * A port free on UDP and on TCP at once, for a gateway's SIP listener (it takes both): a port free on
 * UDP may be another process's ephemeral TCP port. Still free only until it is bound.
 */
export async function freeSipPort(address: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeUdpPort(address);
    const tcp = createServer();
    const free = await new Promise<boolean>((resolve) => {
      tcp.once("error", () => resolve(false));
      tcp.listen(port, address, () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      return port;
    }
  }
  throw new Error(`no port free on both UDP and TCP on ${address} in 50 tries`);
}

export async function startGateway(
  engine: Pick<TestEngine, "nc">,
  id = "gw1",
  extra: Partial<
    Pick<
      GatewayOptions,
      | "advertise"
      | "access"
      | "digest"
      | "edge"
      | "mediaAddress"
      | "egress"
      | "log"
      | "phonePings"
      | "realmAccounts"
      | "recogniser"
      | "registrationStore"
      | "trunks"
      | "tts"
    >
  > & {
    /** The SIP port (a gateway restarted where it was); else a free one. */
    port?: number;
  } = {},
): Promise<SipGateway & AsyncDisposable & { sipPort: number }> {
  const { port: given, ...options } = extra;
  // A port free on UDP may be taken on TCP (a client connection's ephemeral port): try a few.
  for (let attempt = 1; ; attempt++) {
    const port = given ?? (await freeSipPort("127.0.0.1"));
    // A random range, so parallel test files do not meet.
    const lo = 20_000 + 2 * Math.floor(Math.random() * 15_000);
    try {
      const gw = await SipGateway.start({
        nc: engine.nc,
        edge: "ashburn",
        id,
        address: "127.0.0.1",
        port,
        rtpPorts: [lo, lo + 399],
        log: pino({ level: process.env.SIP_LOG ?? "silent" }),
        // Raw phones answer no OPTIONS: pings only where a test asks for them.
        phonePings: false,
        ...options,
      });
      return Object.assign(gw, { [Symbol.asyncDispose]: () => gw.stop(), sipPort: port });
    } catch (err) {
      if (given !== undefined || attempt >= 5 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

/** The caller's phone's RTP port: records every packet the gateway sends it. */
export interface PhoneRtp extends AsyncDisposable {
  port: number;
  packets: RtpPacket[];
  /** When each packet arrived (performance.now()). */
  arrivals: number[];
  socket: Socket;
  /** Resolves once `count` packets have arrived. */
  waitForPackets(count: number, timeoutMs?: number): Promise<void>;
}

export async function phoneRtp(address = SIPP_IP): Promise<PhoneRtp> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const packets: RtpPacket[] = [];
  const arrivals: number[] = [];
  const waiters = new Set<() => void>();
  socket.on("message", (data) => {
    const p = parseRtp(new Uint8Array(data));
    if (p) {
      packets.push({ ...p, payload: p.payload.slice() });
      arrivals.push(performance.now());
    }
    for (const w of waiters) w();
  });
  return {
    port: socket.address().port,
    packets,
    arrivals,
    socket,
    waitForPackets: (count, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (packets.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${packets.length} of ${count} RTP packets within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a sipp scenario from test/sip against the gateway; resolves when sipp exits (killed after `timeoutS`). */
export async function sipp(
  gatewayPort: number,
  scenario: string,
  opts: {
    to: string;
    keys?: Record<string, string | number>;
    args?: string[];
    timeoutS?: number;
    /** sipp's working directory (where rtp_stream finds tone.ulaw). */
    cwd?: string;
  },
): Promise<SippResult> {
  // sipp's own RTP socket (rtp_stream, play_pcap_audio) on a free port, not its fixed default 6000, so
  // sipps of parallel test files do not meet; unless a test listens itself, the SDP names it too.
  const mediaPort = await freeUdpPort(SIPP_IP);
  const keys = { caller: "15557654321", rtpport: mediaPort, codecs: "0 101", dtmf_pt: 101, ...opts.keys };
  const args = [
    `127.0.0.1:${gatewayPort}`,
    "-sf",
    join(SCENARIOS, scenario),
    "-s",
    opts.to.replace(/^\+/, ""),
    "-i",
    SIPP_IP,
    "-m",
    "1",
    "-timeout",
    String(opts.timeoutS ?? 30),
    "-timeout_error",
    "-nostdin",
    "-mp",
    String(mediaPort),
    ...Object.entries(keys).flatMap(([k, v]) => ["-key", k, String(v)]),
    ...(opts.args ?? []),
  ];
  return await spawnSipp(args, opts.cwd ?? tmpdir()).result;
}

export interface SippProcess {
  readonly child: ChildProcess;
  /** Resolves when sipp exits, with the last 20 kB of each of its outputs. */
  readonly result: Promise<SippResult>;
  /** What sipp has written so far (for an error when it does not start). */
  output(): string;
}

/** Starts sipp with `args` in `cwd`; it is killed when the current test ends, if still running. */
export function spawnSipp(args: readonly string[], cwd: string): SippProcess {
  const child = spawn("sipp", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  // A test that fails before sipp's own timeout must not leave sipp behind it.
  stopWhenTestEnds(() => {
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
  const result = new Promise<SippResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result, output: () => stdout + stderr };
}

/** Runs `stop` when the current test ends; outside a test (a hook), the caller stops what it started. */
function stopWhenTestEnds(stop: () => void): void {
  try {
    onTestFinished(stop);
  } catch {
    // not inside a test
  }
}

/** A directory holding tone.ulaw, `seconds` of a tone (440 Hz) as raw μ-law (rtp_stream sends it as it is). */
export function toneDir(seconds: number, hz = 440): Promise<string> {
  return tonesDir([[seconds, hz]]);
}

/** A directory holding tone.ulaw: each part's seconds of its tone, one after the other. */
export async function tonesDir(parts: readonly (readonly [seconds: number, hz: number])[]): Promise<string> {
  const samples = parts.reduce((n, [seconds]) => n + Math.round(seconds * 8000), 0);
  const bytes = new Uint8Array(samples);
  let i = 0;
  for (const [seconds, hz] of parts)
    for (let n = 0; n < Math.round(seconds * 8000); n++, i++)
      bytes[i] = linearToUlaw(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  const dir = await mkdtemp(join(tmpdir(), "sb-sip-"));
  await writeFile(join(dir, "tone.ulaw"), bytes);
  return dir;
}

/**
 * A number whose app says "Hi", pauses `seconds` and hangs up: a call that stays up a known while;
 * with `statusCallback`, its status callbacks go to the app's /status.
 */
export async function pausingNumber(
  engine: TestEngine,
  number: string,
  seconds: number,
  opts: { statusCallback?: boolean } = {},
): Promise<TwilioApp> {
  const app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.say("Hi");
      r.pause({ length: seconds });
      r.hangup();
      return { body: r.toString() };
    },
    "/status": () => ({ body: "" }),
  });
  await engine.addNumber({
    number,
    voiceUrl: `${app.url}/voice`,
    ...(opts.statusCallback && { statusCallback: `${app.url}/status` }),
  });
  return app;
}

/**
 * `switchboard sip` in its own process (to be SIGKILLed, or to be a second gateway), on a free SIP
 * port and a random RTP range, with `extra` arguments (e.g. `--allow`); not yet ready when returned.
 */
export async function startSipProcess(
  natsUrl: string,
  extra: string[] = [],
): Promise<{ process: CliProcess; sipPort: number }> {
  const sipPort = await freeSipPort("127.0.0.1");
  const lo = 20_000 + 2 * Math.floor(Math.random() * 15_000);
  const process = startCli([
    "sip",
    "--edge",
    "ashburn",
    "--listen",
    `127.0.0.1:${sipPort}`,
    "--rtp-ports",
    `${lo}-${lo + 99}`,
    ...extra,
    "--nats",
    natsUrl,
  ]);
  return { process, sipPort };
}
