// Starts a real nats-server, for `switchboard up` and for tests. Modelled on nats.js nst/src/launcher.ts:
// every listener asks for port -1 so servers running side by side never collide, and the port the server
// picked is read back from its ports file, the only race-free way to learn it.
//
// Readiness means "the client port accepts TCP connections". With JetStream on, the JetStream API may
// still answer "no responders"/503 for a moment after that, so clients should retry JetStream calls at
// start rather than treat the first failure as fatal.
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { spawnTied } from "../process/tied-spawn.js";

export interface NatsServerOptions {
  /** Client port; -1 (default) lets the server pick a free one. Never hard-code 4222 in tests. */
  port?: number;
  /** Listen address; default "127.0.0.1". */
  host?: string;
  /** Default true. */
  jetstream?: boolean;
  /** JetStream store dir; default: a fresh temp dir that stop() removes. A given dir is never removed. */
  storeDir?: string;
  serverName?: string;
  /** Extra config text appended to the generated config file (cluster, gateway, server_tags…). */
  extraConfig?: string;
  /** Binary; default env NATS_SERVER_BIN, else "nats-server" on PATH. */
  bin?: string;
  /** Default 15000. */
  startTimeoutMs?: number;
}

export interface NatsServer extends AsyncDisposable {
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly storeDir: string | undefined;
  /** Captured stderr/stdout of the server (capped, last ~64 KiB). */
  output(): string;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove temp files it created. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL without cleanup of the store dir (for crash tests); resolves on exit. */
  kill(): Promise<void>;
}

/** One line telling how to install nats-server on Debian/Ubuntu, macOS and with docker. */
export const INSTALL_HINT =
  "install it with 'sudo apt-get install -y nats-server' (Debian/Ubuntu), 'brew install nats-server' (macOS), " +
  "or run 'docker run -p 4222:4222 nats -js'";

export class NatsServerNotInstalledError extends Error {
  override name = "NatsServerNotInstalledError";
  constructor(options?: ErrorOptions) {
    super(`nats-server not found: ${INSTALL_HINT}`, options);
  }
}

const OUTPUT_CAP = 64 * 1024;
const POLL_MS = 20;
const KILL_AFTER_MS = 5_000;

// Against orphaned servers when the process exits without stop(): each is killed and its temporary
// folder (config, and the JetStream store unless one was given) removed. It does not run when the
// process is killed by a signal: for that each server is spawned with a parent-death signal
// (spawnTied), and a bench turns SIGINT and SIGTERM into an exit (bench/lib/exit-on-signal.ts).
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function track(child: ChildProcess, tmp: string): void {
  live.set(child, tmp);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [c, dir] of live) {
      c.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const host = opts.host ?? "127.0.0.1";
  const bin = opts.bin ?? (process.env.NATS_SERVER_BIN || "nats-server");
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const jetstream = opts.jetstream ?? true;
  const tmp = await mkdtemp(join(tmpdir(), "switchboard-nats-"));
  const storeDir = jetstream ? (opts.storeDir ?? join(tmp, "jetstream")) : undefined;
  const q = JSON.stringify; // a JSON string is a valid double-quoted NATS config string
  const bracketed = host.includes(":") ? `[${host}]` : host;
  const conf = [`listen: ${q(`${bracketed}:${opts.port ?? -1}`)}`, `ports_file_dir: ${q(tmp)}`];
  if (opts.serverName) conf.push(`server_name: ${q(opts.serverName)}`);
  if (storeDir) conf.push(`jetstream { store_dir: ${q(storeDir)} }`);
  if (opts.extraConfig) conf.push(opts.extraConfig);
  const confFile = join(tmp, "nats-server.conf");
  await writeFile(confFile, `${conf.join("\n")}\n`);

  let out = "";
  const append = (chunk: Buffer) => {
    out += chunk.toString("utf8");
    if (out.length > OUTPUT_CAP) out = out.slice(-OUTPUT_CAP);
  };
  // Tied to this process: `switchboard up` (or a test worker) SIGKILLed takes its server with it.
  const child = spawnTied(bin, ["-c", confFile]);
  child.stdin.end(); // it reads no input
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  // 'close' rather than 'exit': it fires once stdio is drained, so the output is complete.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new NatsServerNotInstalledError({ cause: err });
    throw new Error(`could not start ${bin}: ${(err as Error).message}`, { cause: err });
  }
  child.on("error", () => {}); // later errors (e.g. kill on a reaped pid) must not crash the process
  track(child, tmp);
  const pid = child.pid as number;
  const exited = () => child.exitCode !== null || child.signalCode !== null;

  // A wildcard listen address is not a connectable one; loopback reaches it (dual-stack for "::").
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  let port: number;
  try {
    port = await waitUntilReady(tmp, child, reachable, Date.now() + timeoutMs, closed);
  } catch (err) {
    const reason =
      err instanceof TimedOut
        ? `nats-server did not become ready within ${timeoutMs} ms`
        : (err as Error).message;
    if (!exited()) child.kill("SIGKILL");
    await closed;
    live.delete(child);
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`${reason}\n${out}`);
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      let hard: NodeJS.Timeout | undefined;
      if (!exited()) {
        child.kill("SIGTERM");
        hard = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
      }
      await closed;
      clearTimeout(hard);
      live.delete(child);
      await rm(tmp, { recursive: true, force: true });
    })();
    return stopping;
  };
  return {
    url: `nats://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`,
    port,
    pid,
    storeDir,
    output: () => out,
    stop,
    async kill() {
      if (!exited()) child.kill("SIGKILL");
      await closed;
      live.delete(child);
    },
    [Symbol.asyncDispose]: stop,
  };
}

class TimedOut extends Error {}

async function waitUntilReady(
  dir: string,
  child: ChildProcess,
  host: string,
  deadline: number,
  closed: Promise<void>,
): Promise<number> {
  // The file is named after argv[0]'s basename, which differs for symlinks and wrappers; match on pid.
  const suffix = `_${child.pid}.ports`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `nats-server exited before it was ready (code ${child.exitCode}, signal ${child.signalCode})`,
      );
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new TimedOut();
    const name = (await readdir(dir)).find((f) => f.endsWith(suffix));
    const port = name ? parsePort(await readFile(join(dir, name), "utf8")) : undefined;
    if (port !== undefined && (await canConnect(host, port, remaining))) return port;
    await Promise.race([delay(Math.min(POLL_MS, remaining)), closed]);
  }
}

function parsePort(text: string): number | undefined {
  try {
    const first = (JSON.parse(text) as { nats?: string[] }).nats?.[0];
    return first ? Number(new URL(first).port) : undefined;
  } catch {
    return undefined; // caught mid-write; the next poll reads the whole file
  }
}

function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
