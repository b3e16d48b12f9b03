// A region worker (of us1 unless told) as its own process (the real CLI), on a test engine's NATS:
// what the tests of a worker dying or handing its calls over start and kill.
import { startCli } from "./cli.js";

/** `extra`: more options, e.g. `--drain 0` (a SIGTERM hands the live calls over at once). */
export function regionWorker(
  natsUrl: string,
  extra: string[] = [],
  region = "us1",
): ReturnType<typeof startCli> {
  return startCli([
    "region",
    "--region",
    region,
    "--allow-egress",
    "127.0.0.0/8",
    "--nats",
    natsUrl,
    ...extra,
  ]);
}
