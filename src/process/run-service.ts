// Every long-running process has one shape: start, log `ready`, stop gracefully on SIGINT/SIGTERM,
// and exit non-zero with a one-line reason when it cannot start.
import { createLogger, type Logger } from "../log.js";
import { heapTuning } from "./heap-tuning.js";
import { onParentExit, startedByNpm } from "./parent-watch.js";

export interface Service {
  stop(): Promise<void>;
  /**
   * What the service tells its user once it is up (`up`'s `ready <url>` and how to log in): printed
   * only once its handlers are in place, so whoever reads it and signals at once is heard.
   */
  announce?(): void;
}

/**
 * Runs a service whose log lines all carry `bindings`: `{component: "region", region: "us1"}`, so
 * a line says which part of switchboard wrote it (`up` gives each part it runs its own).
 */
export async function runService(
  name: string,
  start: (log: Logger) => Promise<Service>,
  bindings: Record<string, string> = {},
): Promise<void> {
  const log = createLogger(name).child(bindings);
  // Seen before start: a launcher (npx, npm) killed while this process starts leaves it re-parented
  // before the watch below begins, and the watch must not take the new parent for its own.
  const parent = process.ppid;
  let service: Service;
  try {
    service = await start(log);
  } catch (err) {
    process.stderr.write(`switchboard ${name}: ${oneLine(err)}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    try {
      await service.stop();
      log.info("stopped");
      log.flush();
      process.exit(0);
    } catch (err) {
      process.stderr.write(`switchboard ${name}: stop failed: ${oneLine(err)}\n`);
      process.exit(1);
    }
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  // Under npm a shell stands between the user's signal and this process; when npm and the shell go,
  // the signal was meant for us. (A process started directly keeps running when its parent exits.)
  if (startedByNpm()) onParentExit(() => void stop("parent exited"), undefined, parent);
  // Only now: whoever reads `ready` and signals at once must find the handlers in place.
  service.announce?.();
  const heap = heapTuning();
  log.info(heap ? { heap } : {}, "ready");
}

export function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "unknown error";
}
