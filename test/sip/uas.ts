// sipp as a callee (UAS) for the gateway's outbound legs, and the region's side of a leg played by
// the test: an originate request, the leg's events and input, and commands on its subject.
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { onTestFinished } from "vitest";
import { newSid } from "../../src/model/sid.js";
import { decode, encode } from "../../src/protocol/codec.js";
import { readReply } from "../../src/protocol/service-error.js";
import type { SipCommand } from "../../src/protocol/sip-commands.js";
import type { Originate } from "../../src/protocol/sip-legs.js";
import { subjects } from "../../src/protocol/subjects.js";
import { freeUdpPort, SCENARIOS, type SippResult } from "./harness.js";

export interface Uas {
  address: string;
  port: number;
  mediaPort: number;
  /** Resolves when sipp exits. */
  result: Promise<SippResult>;
}

/** Starts sipp as a UAS on `address` running `scenario` for one call; resolves once it listens. */
export async function sippUas(
  scenario: string,
  opts: {
    address?: string;
    cwd?: string;
    keys?: Record<string, string | number>;
    timeoutS?: number;
    /** Where sipp writes every message it sends and receives. */
    messageFile?: string;
  } = {},
): Promise<Uas> {
  const address = opts.address ?? "127.0.0.3";
  const port = await freeUdpPort(address);
  const mediaPort = await freeUdpPort(address);
  const keys = { codecs: "0 101", ...opts.keys };
  const args = [
    "-sf",
    isAbsolute(scenario) ? scenario : join(SCENARIOS, scenario),
    "-i",
    address,
    "-p",
    String(port),
    "-mi",
    address,
    "-mp",
    String(mediaPort),
    "-m",
    "1",
    "-timeout",
    String(opts.timeoutS ?? 30),
    "-timeout_error",
    "-nostdin",
    ...(opts.messageFile ? ["-trace_msg", "-message_file", opts.messageFile] : []),
    ...Object.entries(keys).flatMap(([k, v]) => ["-key", k, String(v)]),
  ];
  const child = spawn("sipp", args, { cwd: opts.cwd ?? tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
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
  const result = new Promise<SippResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  // Listening when its SIP port is taken (bounded: sipp binds within a moment of starting).
  const deadline = Date.now() + 10_000;
  while (!(await udpTaken(address, port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`sipp UAS did not start: ${stdout}${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { address, port, mediaPort, result };
}

function udpTaken(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.once("error", () => resolve(true));
    s.bind(port, address, () => s.close(() => resolve(false)));
  });
}

/** The region's view of one leg: its `.leg` events and `.in` input, in order of arrival. */
export interface LegWatch {
  legSid: string;
  events: { subject: "leg" | "in"; body: Record<string, unknown> }[];
  /** The next event matching, waiting at most `timeoutMs`. */
  next(
    match: (e: { subject: "leg" | "in"; body: Record<string, unknown> }) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

export function watchLeg(nc: NatsConnection, region: string, legSid: string): LegWatch {
  const events: LegWatch["events"] = [];
  const waiters = new Set<() => void>();
  const sb = subjects();
  for (const [subject, name] of [
    [sb.callLeg(region, legSid), "leg"],
    [sb.callIn(region, legSid), "in"],
  ] as const) {
    const sub = nc.subscribe(subject, {
      callback: (_, msg) => {
        events.push({ subject: name, body: decode(msg.data) as Record<string, unknown> });
        for (const w of [...waiters]) w();
      },
    });
    onTestFinished(() => sub.unsubscribe());
  }
  return {
    legSid,
    events,
    next: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < events.length; seen++) {
            const e = events[seen] as LegWatch["events"][number];
            if (match(e)) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(e.body);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching leg event within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** Asks gateway `gw` (or any, through the queue group) to place a leg; returns its sid and watch. */
export async function placeLeg(
  nc: NatsConnection,
  leg: Omit<Originate, "legSid" | "region"> & { region?: string },
  gw?: string,
): Promise<{ watch: LegWatch; reply: unknown }> {
  const legSid = newSid("CA");
  const region = leg.region ?? "us1";
  const watch = watchLeg(nc, region, legSid);
  const sb = subjects();
  const msg = await nc.request(
    gw ? sb.sipOriginate(gw) : sb.sipAnyOriginate(),
    encode({ ...leg, legSid, region }),
    {
      timeout: 5_000,
    },
  );
  return { watch, reply: readReply(msg) };
}

/** Sends a call a channel command on its gateway, as the region does; returns the decoded reply. */
export async function command(
  nc: NatsConnection,
  gw: string,
  callSid: string,
  cmd: SipCommand,
  timeoutMs = 30_000,
) {
  const msg = await nc.request(subjects().sipCallCommand(gw, callSid), encode(cmd), { timeout: timeoutMs });
  return readReply(msg);
}
