// A bench stopped by Ctrl-C or `kill` exits through process.exit, so that its exit hooks run: the
// nats-servers it started (src/dev/nats-server.ts) and a running tcpdump (bench/sip/wire.ts) are
// stopped with it. Its pipeline processes are tied to it (bench/lib/processes.ts) and go too.
// Without this, Node's default action for the signal ends the process with no hook run.

/** Turns SIGINT and SIGTERM into an exit with the shell's code for them (130, 143). */
export function exitOnSignal(): void {
  process.once("SIGINT", () => process.exit(130));
  process.once("SIGTERM", () => process.exit(143));
}
