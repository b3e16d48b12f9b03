// The media bench's machine room: a nats-server, an edge and a region (the real CLI), one SIP gateway
// (`switchboard sip`) and the customer's app in the bench process: its number answers
// `<Play>` of the prompt, then `<Hangup/>`, so the gateway sends RTP for as long as the prompt lasts.
import { createSocket } from "node:dgram";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type NatsServer, startNatsServer } from "../../src/dev/nats-server.js";
import { type BenchProcess, spawnCli } from "../lib/processes.js";
import { provisionAccount, provisionNumber } from "../lib/provision.js";
import { promptWav } from "./prompt.js";

/** A UDP port free on `address` now (the gateway binds it, UDP and TCP, a moment later). */
export async function freeUdpPort(address: string): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface SipStack {
  nats: NatsServer;
  nc: NatsConnection;
  gateway: BenchProcess;
  sipPort: number;
  /** The number the callers dial (digits only, as sipp's service). */
  number: string;
  /** How many 20 ms frames the prompt of the next calls lasts. */
  promptFrames: number;
  /** Requests the app answered (voice URL and prompt), for the report. */
  requests: { voice: number; prompt: number; notModified: number };
  processes: BenchProcess[];
  stop(): Promise<void>;
}

export async function startSipStack(opts: {
  sipPort: number;
  rtpPorts: [number, number];
  gatewayNodeArgs?: string[];
  /** Extra environment for the gateway (the pacer trace). */
  gatewayEnv?: Record<string, string>;
}): Promise<SipStack> {
  const nats = await startNatsServer({ port: -1 });
  const nc = await connect({ servers: nats.url });
  const requests = { voice: 0, prompt: 0, notModified: 0 };
  const state = { promptFrames: 500 };
  const wavs = new Map<number, Buffer>();
  // The app: TwiML naming the prompt of the current length, and the prompt itself with an ETag, so
  // the gateway converts each length once and revalidates it per call (as with a real app's file).
  const app = createServer((req, res) => {
    req.resume();
    const prompt = /^\/prompt\/(\d+)\.wav$/.exec(req.url ?? "");
    if (prompt) {
      const frames = Number(prompt[1]);
      const etag = `"p${frames}"`;
      if (req.headers["if-none-match"] === etag) {
        requests.notModified++;
        return res.writeHead(304, { etag }).end();
      }
      requests.prompt++;
      const wav = wavs.get(frames) ?? promptWav(frames);
      wavs.set(frames, wav);
      return res.writeHead(200, { "content-type": "audio/wav", etag }).end(wav);
    }
    requests.voice++;
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const twiml = `<?xml version="1.0" encoding="UTF-8"?><Response><Play>${base}/prompt/${state.promptFrames}.wav</Play><Hangup/></Response>`;
    res.writeHead(200, { "content-type": "text/xml" }).end(twiml);
  });
  app.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  const voiceUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/voice`;
  const number = "+15551239020";
  await provisionNumber(nc, await provisionAccount(nc), number, "us1", voiceUrl);

  const natsArg = ["--nats", nats.url];
  // The app is on loopback, which the region and the gateway refuse unless allowed.
  const egress = { SWITCHBOARD_ALLOW_EGRESS: "127.0.0.0/8" };
  const gateway = spawnCli(
    "switchboard sip",
    [
      "sip",
      "--edge",
      "ashburn",
      "--id",
      "bench-gw",
      "--listen",
      `127.0.0.1:${opts.sipPort}`,
      "--rtp-ports",
      opts.rtpPorts.join("-"),
      "--allow",
      "127.0.0.0/8",
      ...natsArg,
    ],
    { nodeArgs: opts.gatewayNodeArgs ?? [], env: { ...egress, ...opts.gatewayEnv } },
  );
  const processes = [
    spawnCli("switchboard edge", ["edge", "--edge", "ashburn", ...natsArg]),
    spawnCli("switchboard region", ["region", "--region", "us1", ...natsArg], { env: egress }),
    gateway,
  ];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await nc.close();
    await new Promise<void>((resolve) => app.close(() => resolve()));
    app.closeAllConnections();
    await nats.stop();
  };
  try {
    await Promise.all(processes.map((p) => p.ready()));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nats,
    nc,
    gateway,
    sipPort: opts.sipPort,
    number: number.slice(1),
    get promptFrames() {
      return state.promptFrames;
    },
    set promptFrames(n: number) {
      state.promptFrames = n;
    },
    requests,
    processes,
    stop,
  };
}
