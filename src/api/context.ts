// What every route plugin of the api is given.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { AccountRecord } from "../model/records.js";
import type { GlobalStores } from "../store/global.js";
import type { WatchedKv } from "../store/watched-kv.js";

export interface ApiContext {
  nc: NatsConnection;
  log: Logger;
  global: GlobalStores;
  /** A watched copy of `sb_accounts`, for authentication. */
  accounts: WatchedKv<AccountRecord>;
}
