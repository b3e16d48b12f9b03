// Chaos: steady load on a region run by worker processes, one of which is SIGKILLed again and
// again (and replaced), another stopped (SIGSTOP) for a while and woken (SIGCONT), with one
// nats-server restart in the middle and some calls answered with hostile documents (thousands of
// unknown attributes: half a second of a worker's main thread each); then every offered call is
// accounted for: one record each, none run twice, and no call of a worker that was neither killed
// nor stopped while the call ran replayed a verb. Used by the short test
// (test/region/chaos.test.ts) and `npm run bench` (long form).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
import type { CliProcess } from "../test/helpers/cli.js";
import { regionWorker } from "../test/helpers/region-worker.js";

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
  /** When (into the load) a worker is stopped (SIGSTOP), and for how long, before SIGCONT. */
  stall?: { atMs: number; forMs: number };
  /** Every this many calls, one is answered with a hostile document; undefined: none. */
  hostileEvery?: number;
}

export interface ChaosReport {
  offered: number;
  completed: number;
  failed: number;
  lost: number;
  /** Calls that ended twice: completed-status callbacks with two idempotency tokens. */
  duplicated: number;
  /** Completed-status callbacks sent again with the same token (at least once, as Twilio sends). */
  callbackRetries: number;
  kills: number;
  stalls: number;
  hostile: number;
  /** Calls whose document was requested more than once with one idempotency token while their worker was healthy. */
  ranTwice: number;
  /** Calls resumed (a verb replayed) though no worker running them was killed or stopped. */
  replayedHealthy: number;
  resumed: number;
  resumeMs: { p50: number; p99: number; max: number };
}

const TWIML = '<?xml version="1.0"?><Response><Say>Hi</Say><Pause length="2"/><Say>Bye</Say></Response>';
const HOSTILE = `<?xml version="1.0"?><Response><Say ${Array.from({ length: 5_000 }, (_, i) => `x${i}="v"`).join(" ")}>Hi</Say><Pause length="2"/></Response>`;

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const storeDir = await mkdtemp(join(tmpdir(), "sb-chaos-"));
  let nats = await startNatsServer({ storeDir });
  const port = nats.port;
  const nc = await connectNats(nats.url, "chaos");
  /**
   * Each call's completed-status callbacks, by I-Twilio-Idempotency-Token. The outbox sends at least
   * once: a worker killed mid-request leaves its callback to be sent again with the same token (as
   * Twilio retries), which an app dedupes; two tokens would be two ends of one call.
   */
  const callbacks = new Map<string, Map<string, number>>();
  /** Document requests per idempotency token, and the call each was for. */
  const documents = new Map<string, { callSid: string; n: number }>();
  const app = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      if (req.url === "/status") {
        const sid = new URLSearchParams(body).get("CallSid") ?? "";
        const token = String(req.headers["i-twilio-idempotency-token"] ?? "");
        const byToken = callbacks.get(sid) ?? new Map<string, number>();
        byToken.set(token, (byToken.get(token) ?? 0) + 1);
        callbacks.set(sid, byToken);
        res.writeHead(204).end();
      } else {
        const token = String(req.headers["i-twilio-idempotency-token"] ?? "");
        const callSid = new URLSearchParams(body).get("CallSid") ?? "";
        const seen = documents.get(token) ?? { callSid, n: 0 };
        seen.n++;
        documents.set(token, seen);
        res.writeHead(200, { "Content-Type": "text/xml" }).end(req.url === "/hostile" ? HOSTILE : TWIML);
      }
    });
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  const global = await openGlobalStores(nc);
  const accountSid = newSid("AC");
  await addAccount(global, { sid: accountSid, token: newAuthToken() });
  for (const [number, path] of [
    ["+15559000001", "/voice"],
    ["+15559000002", "/hostile"],
  ] as const)
    await addNumber(nc, global, {
      number,
      region: "us1",
      voiceUrl: `${base}${path}`,
      statusCallback: `${base}/status`,
      accountSid,
    });
  const edge = await Edge.start({ nc, edge: "ashburn", log: pino({ level: "silent" }) });

  let started = Date.now();
  const killedAt = new Map<string, number>(); // worker pid -> when it was killed
  const resumeMs: number[] = [];
  /** Each call's resumes: from which worker to which, when (ms into the run). */
  const resumedCalls = new Map<string, string[]>();
  /** The workers each call was claimed from. */
  const resumedFrom = new Map<string, string[]>();
  /** The pids of the workers killed or stopped. */
  const victims = new Set<string>();
  const timeline: string[] = [];
  const note = (what: string) => timeline.push(`+${Date.now() - started} ${what}`);
  nc.subscribe("sb.region.us1.inspect.*", {
    callback: (_err, msg) => {
      for (const e of inspectEnvelopes(msg.data)) {
        if (e.type !== "resumed") continue;
        const resumes = resumedCalls.get(e.callSid) ?? [];
        resumes.push(`${e.from} -> ${e.worker} at +${e.at - started}`);
        resumedCalls.set(e.callSid, resumes);
        resumedFrom.set(e.callSid, [...(resumedFrom.get(e.callSid) ?? []), e.from]);
        const at = killedAt.get(e.from.split("-")[0] ?? "");
        if (at !== undefined) {
          resumeMs.push(e.at - at);
          if (e.at - at > 3_000)
            note(`slow resume of ${e.callSid} from ${e.from} by ${e.worker}: ${e.at - at} ms`);
        }
      }
    },
  });
  const done = new Set<string>();
  const records = new Map<string, CallResource>();
  const startWorker = async () => {
    const w = regionWorker(`nats://127.0.0.1:${port}`);
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
  const offeredAt = new Map<string, number>();
  const actors = await new Kvm(nc).open("sb_actors_us1");
  /**
   * Calls that may have been on a worker killed or stopped before they were leased (their document
   * is then requested again when the stream redelivers them): every call in flight but leased by
   * another worker.
   */
  const unlucky = new Set<string>();
  const markUnlucky = async (victim: CliProcess) => {
    victims.add(String(victim.child.pid));
    const healthyOwner = new Set<string>();
    try {
      for await (const key of await actors.keys("_o.>")) {
        const [, owner = "", sid = ""] = key.split(".");
        if (!owner.startsWith(`${victim.child.pid}-`)) healthyOwner.add(sid);
      }
    } catch {
      // Unreadable (nats-server restarting): every call in flight counts as the victim's.
    }
    for (const sid of offered) if (!done.has(sid) && !healthyOwner.has(sid)) unlucky.add(sid);
  };
  let kills = 0;
  let stalls = 0;
  let hostile = 0;
  let stalled: Promise<void> | undefined;
  started = Date.now();
  note(`workers ${workers.map((w) => w.child.pid).join(", ")} ready`);
  let restarted = o.restartNatsAtMs === undefined;
  let nextKill = started + o.killEveryMs;
  const offering: Promise<void>[] = [];
  while (Date.now() - started < o.loadMs) {
    const callSid = newSid("CA");
    offered.push(callSid);
    offeredAt.set(callSid, Date.now() - started);
    const toHostile = o.hostileEvery !== undefined && offered.length % o.hostileEvery === 0;
    if (toHostile) hostile++;
    const to = toHostile ? "+15559000002" : "+15559000001";
    offering.push(offerUntilStored(nc, callSid, to, started + o.loadMs + o.settleMs));
    if (o.stall && !stalled && Date.now() - started >= o.stall.atMs && workers.length > 1) {
      // The newest worker: the oldest is the next one killed.
      const victim = workers.at(-1) as CliProcess;
      victim.child.kill("SIGSTOP");
      note(`SIGSTOP ${victim.child.pid}`);
      stalls++;
      await markUnlucky(victim);
      const forMs = o.stall.forMs;
      stalled = new Promise<void>((resolve) =>
        setTimeout(() => {
          victim.child.kill("SIGCONT");
          note(`SIGCONT ${victim.child.pid}`);
          resolve();
        }, forMs),
      );
    }
    if (Date.now() >= nextKill) {
      const victim = workers.shift() as CliProcess;
      killedAt.set(String(victim.child.pid), Date.now());
      victim.child.kill("SIGKILL");
      note(`SIGKILL ${victim.child.pid}`);
      await markUnlucky(victim);
      kills++;
      nextKill = Date.now() + o.killEveryMs;
      void startWorker().then((w) => {
        workers.push(w);
        note(`worker ${w.child.pid} ready`);
      });
    }
    if (!restarted && Date.now() - started >= (o.restartNatsAtMs ?? 0)) {
      restarted = true;
      note("nats-server stopping");
      await nats.stop();
      nats = await startNatsServer({ storeDir, port });
      note("nats-server started");
    }
    await new Promise((r) => setTimeout(r, 1000 / o.rate));
  }
  await Promise.all(offering);
  await stalled;
  // Every offered call should now end; wait for their records, within the settle time.
  const deadline = Date.now() + o.settleMs;
  while (offered.some((sid) => !done.has(sid)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));

  const ended = offered.filter((sid) => records.has(sid));
  // A call claimed from a worker that was neither killed nor stopped: that worker was taken for dead.
  const fromHealthy = (sid: string) =>
    (resumedFrom.get(sid) ?? []).some((from) => !victims.has(from.split("-")[0] ?? ""));
  const ranTwice = new Set(
    [...documents.values()]
      .filter(
        (d) =>
          d.n > 1 && (fromHealthy(d.callSid) || (!unlucky.has(d.callSid) && !resumedFrom.has(d.callSid))),
      )
      .map((d) => d.callSid),
  );
  const replayedHealthy = [...resumedFrom.keys()].filter(fromHealthy);
  const explain = (sid: string, what: string) => {
    process.stderr.write(
      `${what} ${sid}: offered at +${offeredAt.get(sid)}, resumed ${JSON.stringify(resumedCalls.get(sid) ?? [])}\n`,
    );
    // What every worker (the killed ones too) logged about it.
    for (const w of everyWorker)
      for (const line of w
        .output()
        .split("\n")
        .filter((l) => l.includes(sid)))
        process.stderr.write(`  worker ${w.child.pid}: ${line.slice(0, 400)}\n`);
  };
  for (const sid of offered.filter((x) => !records.has(x))) {
    process.stderr.write(`${await explainLost(nc, sid)}\n`);
    explain(sid, "lost");
  }
  for (const sid of ranTwice) explain(sid, "ran twice");
  for (const sid of replayedHealthy) explain(sid, "replayed though healthy");
  process.stderr.write(`chaos timeline: ${timeline.join("; ")}\n`);
  // Every worker's whole log, for a closer look: CHAOS_LOGS=<dir>.
  const logs = process.env.CHAOS_LOGS;
  if (logs) for (const w of everyWorker) await writeFile(join(logs, `worker-${w.child.pid}.log`), w.output());
  const report: ChaosReport = {
    offered: offered.length,
    completed: ended.filter((sid) => records.get(sid)?.status === "completed").length,
    failed: ended.filter((sid) => records.get(sid)?.status !== "completed").length,
    lost: offered.length - ended.length,
    duplicated: [...callbacks.values()].filter((byToken) => byToken.size > 1).length,
    callbackRetries: [...callbacks.values()]
      .flatMap((byToken) => [...byToken.values()])
      .reduce((sum, n) => sum + n - 1, 0),
    kills,
    stalls,
    hostile,
    ranTwice: ranTwice.size,
    replayedHealthy: replayedHealthy.length,
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
  to: string,
  until: number,
): Promise<void> {
  while (Date.now() < until) {
    try {
      await offerCall(nc, "ashburn", {
        to,
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
