// A port someone else holds, said plainly: which port, what wanted it, and the flag that avoids it,
// instead of "nats-server exited before it was ready (code 1…)" or a bare EADDRINUSE.
import { createServer } from "node:net";

export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  readonly code = "EADDRINUSE";

  constructor(
    readonly port: number,
    what: string,
    fix: string,
    options?: ErrorOptions,
  ) {
    super(`port ${port} (${what}) is already in use: ${fix}`, options);
  }
}

/** Resolves when `host:port` can be bound right now (0 and -1 mean any free port: always). */
export async function requirePortFree(host: string, port: number, what: string, fix: string): Promise<void> {
  if (port <= 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new PortInUseError(port, what, fix, { cause: err }) : err),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** An EADDRINUSE from a listen() becomes a PortInUseError; anything else is rethrown as is. */
export function explainListenError(err: unknown, port: number, what: string, fix: string): never {
  if ((err as NodeJS.ErrnoException)?.code === "EADDRINUSE")
    throw new PortInUseError(port, what, fix, { cause: err });
  throw err;
}
