// What every route plugin of the api is given.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { AccountRecord } from "../model/records.js";
import type { CallerScript } from "../protocol/offer.js";
import type { GlobalStores, TrunkStores } from "../store/global.js";
import type { WatchedKv } from "../store/watched-kv.js";
import type { Logins } from "./logins.js";

export interface ApiContext {
  nc: NatsConnection;
  log: Logger;
  global: GlobalStores;
  /** `sb_trunks`, which the api reads (GET /v1/Trunks.json) and never writes. */
  trunks: TrunkStores;
  /** A watched copy of `sb_accounts`, for authentication. */
  accounts: WatchedKv<AccountRecord>;
  /** Logins for the parts beside the REST API (the visualizer), counted by the REST API's limiter. */
  logins: Logins;
  /** How outbound calls (REST `POST Calls.json`) are placed. */
  outbound: OutboundOptions;
  /**
   * The api's address as apps reach it: the absolute URLs it hands out (a Recording's `media_url`)
   * start with it, as the RecordingUrls the regions send do. Not the request's Host: Twilio's client,
   * pointed here, keeps `api.twilio.com` as its Host (docs/rest-api.md).
   */
  publicUrl(): string;
}

export interface OutboundOptions {
  /** The edge a call to a number switchboard hosts is offered through (its inbound call). */
  edge: string;
  /**
   * The simulated network's script for the calls it places: `timeScale`, and `callees` (how each
   * `To` answers), as an offer's caller script says for <Dial> (docs/outbound.md). Default: real time.
   */
  script?: CallerScript;
}
