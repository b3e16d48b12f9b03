// What a SIP gateway is started with (SipGateway.start): its bus, its addresses, who may call it,
// its digest users and their registered phones, its trunks, and the engines its calls use.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.js";
import type { TrunkRecord } from "../model/trunk.js";
import type { EgressPolicy } from "../webhook/egress.js";
import type { InboundAccess } from "./inbound-access.js";
import type { PingOptions } from "./phone-pings.js";
import type { BindingStore } from "./registrations.js";
import type { Recogniser } from "./speech/recogniser.js";
import type { TtsEngine } from "./tts/engines.js";
import type { DigestCheck } from "./ua/digest-check.js";

export interface GatewayOptions {
  nc: NatsConnection;
  /** The edge that takes this gateway's offers. */
  edge: string;
  /** This gateway's name in subjects: unique among running gateways. */
  id: string;
  /** SIP listens here (UDP and TCP). */
  address: string;
  port: number;
  /** The RTP port range (inclusive), e.g. [20000, 20999]; even ports are used. */
  rtpPorts: readonly [number, number];
  /** The host peers reach us at (behind NAT, the public one): in Contact, Via and SDP. Default `address`. */
  advertise?: string;
  /** The address put in SDP (RTP is bound on `address`); default `advertise`, else the SIP address. */
  mediaAddress?: string;
  /** Who may place calls (default: loopback only, DEFAULT_ALLOW); trunks' ranges are added to it. */
  access?: InboundAccess;
  /** Callers outside `access` who may place calls by digest authentication (`--digest-users`). */
  digest?: DigestCheck;
  /**
   * How often registered phones are sent OPTIONS, and how long each has to answer (with `digest`;
   * default DEFAULT_PINGS); false: never, every binding is rung until it expires.
   */
  phonePings?: PingOptions | false;
  /**
   * The account each digest realm belongs to (lower case): its registered users are rung by that
   * account's calls only. A realm not named is any account's.
   */
  realmAccounts?: ReadonlyMap<string, string>;
  /** Where the registered phones outlive a restart (with `digest`); without one, in memory only. */
  registrationStore?: BindingStore;
  /** The trunks outbound legs may name (a watched copy of `sb_trunks`); without it, such a leg fails. */
  trunks?: { get(name: string): TrunkRecord | undefined };
  log: Logger;
  prefix?: string;
  /** Where <Play> URLs may be fetched from (default: anywhere). */
  egress?: EgressPolicy;
  /** Speech Gathers' recogniser (default: pocketsphinx; speech/recogniser.ts). */
  recogniser?: Recogniser;
  /** <Say>'s text-to-speech engine (default: espeak-ng; tts/synthesiser.ts). */
  tts?: TtsEngine;
}
