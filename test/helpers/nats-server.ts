// Tests start their own nats-server on a free port: `await using nats = await startTestNatsServer();`
import {
  type NatsServer,
  NatsServerNotInstalledError,
  type NatsServerOptions,
  startNatsServer,
} from "../../src/dev/nats-server.js";

export type { NatsServer, NatsServerOptions };
export { NatsServerNotInstalledError };

export async function startTestNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  return startNatsServer({ port: -1, ...opts });
}
