// sipp as a callee (UAS) for the gateway's outbound legs, and the region's side of a leg played by
// the test: an originate request, the leg's events and input, and commands on its subject.
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
import { freeUdpPort, SCENARIOS, type SippResult, spawnSipp } from "./harness.js";

export interface Uas {
  address: string;
  port: number;
  mediaPort: number;
  /** Resolves when sipp exits. */
  result: Promise<SippResult>;
}

export interface UasOptions {
  /** Its loopback address (127.0.0.3 unless told). */
  address?: string;
  /** sipp's working directory (where rtp_stream finds its audio). */
  cwd?: string;
  /** Scenario keys; `rtpport` (sipp's media port) and `codecs` ("0 101") unless given. */
  keys?: Record<string, string | number>;
  timeoutS?: number;
  /** Where sipp writes every message it sends and receives. */
  messageFile?: string;
}

/**
 * Starts sipp as a UAS running `scenario` (a file of test/sip, or a path) for one call; resolves once it
 * listens. Its ports are picked free and then bound by sipp (video RTP on the media port + 2 too), so
 * one taken meanwhile by a parallel test is tried again with others, a few times.
 */
export async function sippUas(scenario: string, opts: UasOptions = {}): Promise<Uas> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startUas(scenario, opts);
    } catch (err) {
      if (attempt === 3 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

async function startUas(scenario: string, opts: UasOptions): Promise<Uas> {
  const address = opts.address ?? "127.0.0.3";
  const port = await freeUdpPort(address);
  const mediaPort = await freeUdpPort(address);
  const keys = { rtpport: mediaPort, codecs: "0 101", ...opts.keys };
  const args = [
    ...[
      "-sf",
      isAbsolute(scenario) ? scenario : join(SCENARIOS, scenario),
      "-i",
      address,
      "-p",
      String(port),
    ],
    ...["-mi", address, "-mp", String(mediaPort), "-m", "1"],
    ...["-timeout", String(opts.timeoutS ?? 30), "-timeout_error", "-nostdin"],
    ...(opts.messageFile ? ["-trace_msg", "-message_file", opts.messageFile] : []),
    ...Object.entries(keys).flatMap(([k, v]) => ["-key", k, String(v)]),
  ];
  const sipp = spawnSipp(args, opts.cwd ?? tmpdir());
  // Listening when its SIP port is taken (bounded: sipp binds within a moment of starting).
  const deadline = Date.now() + 10_000;
  while (!(await udpTaken(address, port))) {
    if (sipp.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`sipp UAS did not start: ${sipp.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { address, port, mediaPort, result: sipp.result };
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

/**
 * The test's side of uas-answer-on-cue.xml: sipp sends the INVITE's Call-ID to `port`; `answer` sends
 * it an INFO in that dialog (sipp matches the Call-ID), its cue to answer. Closed when the test ends.
 */
export interface AnswerCue {
  port: number;
  /** The leg's Call-ID, once sipp has the INVITE. */
  callId: Promise<string>;
  answer(uas: { address: string; port: number }): Promise<void>;
}

export async function answerCue(): Promise<AnswerCue> {
  const socket = createSocket("udp4");
  onTestFinished(() => void socket.close());
  const callId = new Promise<string>((resolve) =>
    socket.once("message", (m) => resolve(m.toString().trim())),
  );
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  return {
    port,
    callId,
    answer: async (uas) => {
      const text = [
        `INFO sip:callee@${uas.address}:${uas.port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-cue-${Date.now()}`,
        "From: <sip:test@127.0.0.1>;tag=cue",
        `To: <sip:callee@${uas.address}>`,
        `Call-ID: ${await callId}`,
        "CSeq: 1 INFO",
        "Max-Forwards: 70",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      socket.send(text, uas.port, uas.address);
    },
  };
}
