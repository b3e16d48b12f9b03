// Chaos: steady load on a region run by worker processes, one of which is SIGKILLed again and
// again (and replaced), with one nats-server restart in the middle; then every offered call is
// accounted for. Used by the short test (test/region/chaos.test.ts) and `npm run bench` (long form).
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { pino } from "pino";
import { addAccount, newAuthToken } from "../src/admin/accounts.js";
import { addNumber } from "../src/admin/numbers.js";
import { startNatsServer } from "../src/dev/nats-server.js";
import { Edge } from "../src/edge/edge.js";
import type { CallResource } from "../src/model/records.js";
import { newSid } from "../src/model/sid.js";
import { connectNats } from "../src/protocol/connect.js";
import { inspectEnvelopes } from "../src/protocol/inspect.js";
import { offerCall } from "../src/protocol/offer.js";
import { openGlobalStores } from "../src/store/global.js";
import { type CliProcess, startCli } from "../test/helpers/cli.js";

export interface ChaosOptions {
  /** How long calls are offered. */
  loadMs: number;
  /** Calls offered per second. */
  rate: number;
  workers: number;
  killEveryMs: number;
  /** When (into the load) nats-server is restarted; undefined: never. */
  restartNatsAtMs?: number;
  /** How long to wait, after the load, for the last calls to end. */
  settleMs: number;
}

export interface ChaosReport {
  offered: number;
  completed: number;
  failed: number;
  lost: number;
  duplicated: number;
  kills: number;
  resumed: number;
  resumeMs: { p50: number; p99: number; max: number };
}

const TWIML = '<?xml version="1.0"?><Response><Say>Hi</Say><Pause length="2"/><Say>Bye</Say></Response>';

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const storeDir = await mkdtemp(join(tmpdir(), "sb-chaos-"));
  let nats = await startNatsServer({ storeDir });
  const port = nats.port;
  const nc = await connectNats(nats.url, "chaos");
  const callbacks = new Map<string, number>();
  const app = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      if (req.url === "/status") {
        const sid = new URLSearchParams(body).get("CallSid") ?? "";
        callbacks.set(sid, (callbacks.get(sid) ?? 0) + 1);
        res.writeHead(204).end();
      } else res.writeHead(200, { "Content-Type": "text/xml" }).end(TWIML);
    });
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  const global = await openGlobalStores(nc);
  const accountSid = newSid("AC");
  await addAccount(global, { sid: accountSid, token: newAuthToken() });
  await addNumber(nc, global, {
    number: "+15559000001",
    region: "us1",
    voiceUrl: `${base}/voice`,
    statusCallback: `${base}/status`,
    accountSid,
  });
  const edge = await Edge.start({ nc, edge: "ashburn", log: pino({ level: "silent" }) });

  const killedAt = new Map<string, number>(); // worker pid -> when it was killed
  const resumeMs: number[] = [];
  nc.subscribe("sb.region.us1.inspect.*", {
    callback: (_err, msg) => {
      for (const e of inspectEnvelopes(msg.data)) {
        if (e.type !== "resumed") continue;
        const at = killedAt.get(e.from.split("-")[0] ?? "");
        if (at !== undefined) resumeMs.push(e.at - at);
      }
    },
  });
  const done = new Set<string>();
  const records = new Map<string, CallResource>();
  const startWorker = async () => {
    const w = startCli([
      "region",
      "--region",
      "us1",
      "--allow-egress",
      "127.0.0.0/8",
      "--nats",
      `nats://127.0.0.1:${port}`,
    ]);
    everyWorker.push(w);
    await w.waitForLog("ready", 30_000);
    return w;
  };
  const workers: CliProcess[] = [];
  const everyWorker: CliProcess[] = [];
  for (let i = 0; i < o.workers; i++) workers.push(await startWorker());
  // Watch the records as they are stored (the watch resumes by itself after a reconnect).
  const calls = await new Kvm(nc).open("sb_calls_us1");
  const watch = await calls.watch();
  void (async () => {
    for await (const e of watch) {
      if (e.operation !== "PUT") continue;
      records.set(e.key, e.json<CallResource>());
      done.add(e.key);
    }
  })().catch(() => {});

  const offered: string[] = [];
  const started = Date.now();
  let kills = 0;
  let restarted = o.restartNatsAtMs === undefined;
  let nextKill = started + o.killEveryMs;
  const offering: Promise<void>[] = [];
  while (Date.now() - started < o.loadMs) {
    const callSid = newSid("CA");
    offered.push(callSid);
    offering.push(offerUntilStored(nc, callSid, started + o.loadMs + o.settleMs));
    if (Date.now() >= nextKill) {
      const victim = workers.shift() as CliProcess;
      killedAt.set(String(victim.child.pid), Date.now());
      victim.child.kill("SIGKILL");
      kills++;
      nextKill = Date.now() + o.killEveryMs;
      void startWorker().then((w) => workers.push(w));
    }
    if (!restarted && Date.now() - started >= (o.restartNatsAtMs ?? 0)) {
      restarted = true;
      await nats.stop();
      nats = await startNatsServer({ storeDir, port });
    }
    await new Promise((r) => setTimeout(r, 1000 / o.rate));
  }
  await Promise.all(offering);
  // Every offered call should now end; wait for their records, within the settle time.
  const deadline = Date.now() + o.settleMs;
  while (offered.some((sid) => !done.has(sid)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));

  const ended = offered.filter((sid) => records.has(sid));
  for (const sid of offered.filter((x) => !records.has(x))) {
    process.stderr.write(`${await explainLost(nc, sid)}\n`);
    // What every worker (the killed ones too) logged about it.
    for (const w of everyWorker)
      for (const line of w
        .output()
        .split("\n")
        .filter((l) => l.includes(sid)))
        process.stderr.write(`  worker ${w.child.pid}: ${line.slice(0, 400)}\n`);
  }
  const report: ChaosReport = {
    offered: offered.length,
    completed: ended.filter((sid) => records.get(sid)?.status === "completed").length,
    failed: ended.filter((sid) => records.get(sid)?.status !== "completed").length,
    lost: offered.length - ended.length,
    duplicated: [...callbacks.values()].filter((n) => n > 1).length,
    kills,
    resumed: resumeMs.length,
    resumeMs: percentiles(resumeMs),
  };
  watch.stop();
  await Promise.all(workers.map((w) => w.stop()));
  await edge.stop();
  await nc.close();
  app.close();
  await nats.stop();
  await rm(storeDir, { recursive: true, force: true });
  return report;
}

/** Where a lost call got to: its record, snapshot, leases and the call stream, for the report. */
async function explainLost(nc: Parameters<typeof offerCall>[0], callSid: string): Promise<string> {
  const kvm = new Kvm(nc);
  const record = await (await kvm.open("sb_calls_us1")).get(callSid);
  const actors = await kvm.open("sb_actors_us1");
  const snap = await actors.get(callSid);
  const leases: string[] = [];
  for await (const k of await actors.keys(`_o.*.${callSid}`)) leases.push(k);
  const jsm = await jetstreamManager(nc);
  const consumer = await jsm.consumers.info("SB_CALLS_US1", "workers");
  const value =
    snap?.operation === "PUT" ? snap.json<{ value?: unknown; sb?: { owner?: string } }>() : undefined;
  return `lost ${callSid}: record=${record?.operation ?? "none"} snapshot=${snap?.operation ?? "none"} owner=${value?.sb?.owner} state=${JSON.stringify(value?.value)} leases=${leases.join(",") || "none"} stream pending=${consumer.num_pending} unacked=${consumer.num_ack_pending} redelivered=${consumer.num_redelivered}`;
}

/** Offers the call until the edge has stored it (a restarting nats-server refuses offers for a while). */
async function offerUntilStored(
  nc: Parameters<typeof offerCall>[0],
  callSid: string,
  until: number,
): Promise<void> {
  while (Date.now() < until) {
    try {
      await offerCall(nc, "ashburn", {
        to: "+15559000001",
        from: "+15557654321",
        callSid,
        caller: { timeScale: 1 },
      });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function percentiles(xs: number[]): ChaosReport["resumeMs"] {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? Number.NaN };
}
