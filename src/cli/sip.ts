// `switchboard sip --edge NAME [--listen 127.0.0.1:5060] [--rtp-ports 20000-20999] [--advertise HOST]
// [--allow CIDR …] [--digest-users FILE]`: the SIP gateway (UDP and TCP).
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Logger } from "../log.js";
import { runService } from "../process/run-service.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { buckets } from "../protocol/subjects.js";
import { SipGateway } from "../sip/gateway.js";
import { DEFAULT_ALLOW, InboundAccess } from "../sip/inbound-access.js";
import { DEFAULT_PINGS } from "../sip/phone-pings.js";
import { SipUsers, SipUsersError } from "../sip/sip-users.js";
import { recogniserFrom } from "../sip/speech/engines.js";
import { type TtsEngine, ttsEngineFrom } from "../sip/tts/engines.js";
import { DigestCheck } from "../sip/ua/digest-check.js";
import { RegistrationStore } from "../store/sip-registrations.js";
import { EgressPolicy, parseCidr } from "../webhook/egress.js";
import { collect, natsOption, parseName, splitList } from "./options.js";
import { watchTrunks } from "./sip-trunks.js";

interface SipFlags {
  edge: string;
  listen: { address: string; port: number };
  rtpPorts: [number, number];
  mediaAddress?: string;
  advertise?: string;
  allow: string[];
  id?: string;
  nats?: string;
  allowEgress?: string;
  speech?: string;
  tts: TtsEngine;
  digestUsers?: { path: string; users: SipUsers };
  pingPhones: number;
  realmAccount: [string, string][];
}

export function registerSipCommand(program: Command): void {
  program
    .command("sip")
    .description(
      "run a SIP gateway: answer SIP calls (UDP and TCP, G.711 over RTP) and offer them to an edge",
    )
    .requiredOption("--edge <name>", "the edge that takes this gateway's calls", parseName)
    .addOption(
      new Option("--listen <address:port>", "where SIP listens (UDP and TCP)")
        .argParser(parseListen)
        .default(parseListen("127.0.0.1:5060"), "127.0.0.1:5060"),
    )
    .addOption(
      new Option("--rtp-ports <from-to>", "the RTP port range")
        .argParser(parseRange)
        .default([20000, 20999], "20000-20999"),
    )
    .option(
      "--advertise <host>",
      "the address peers reach this gateway at, behind NAT: put in Contact, Via and SDP (default: the --listen address)",
    )
    .option(
      "--media-address <ip>",
      "the address put in SDP (default: --advertise, else the --listen address)",
    )
    .option(
      "--allow <cidrs>",
      `networks that may place calls, comma-separated or repeated (default: ${DEFAULT_ALLOW.join(", ")} only)`,
      (value: string, previous: string[]) =>
        splitList(value).reduce((all, v) => collect(parseAllow(v), all), previous),
      [] as string[],
    )
    .option(
      "--digest-users <file>",
      "an htdigest file (user:realm:HA1 lines) of callers who may place calls from outside --allow by digest authentication; re-read on SIGHUP",
      parseDigestUsers,
    )
    .option(
      "--ping-phones <seconds>",
      "how often each phone registered with --digest-users is sent OPTIONS (a phone that does not answer is not rung until it does; keeps NATs open); 0: never",
      parsePingSeconds,
      DEFAULT_PINGS.intervalMs / 1000,
    )
    .option(
      "--realm-account <realm=AC…>",
      "the account a --digest-users realm belongs to: its registered phones are rung by that account's calls only (repeatable; a realm not named: any account's)",
      (value: string, previous: [string, string][]) => [...previous, parseRealmAccount(value)],
      [] as [string, string][],
    )
    .option("--id <name>", "this gateway's name on the bus (default: <edge>-<random>)")
    .addOption(natsOption())
    .addOption(
      new Option(
        "--allow-egress <cidrs>",
        "comma-separated networks <Play> URLs may reach besides public addresses (e.g. 127.0.0.0/8)",
      ).env("SWITCHBOARD_ALLOW_EGRESS"),
    )
    .addOption(
      new Option(
        "--speech <engine>",
        "the speech recogniser for <Gather input=speech>: pocketsphinx, command:PROGRAM [ARGS] (WAV on stdin, prints the text) or an http(s) URL (POSTed the WAV)",
      )
        .env("SWITCHBOARD_SIP_SPEECH")
        .argParser(parseSpeech)
        .default("pocketsphinx"),
    )
    .addOption(
      new Option(
        "--tts <engine>",
        "the text to speech for <Say>: espeak-ng, command:PROGRAM [ARGS] (text on stdin, audio on stdout) or an http(s) URL (POSTed {text, voice, language}, answers audio)",
      )
        .env("SWITCHBOARD_SIP_TTS")
        .argParser(parseTts)
        .default(ttsEngineFrom("espeak-ng"), "espeak-ng"),
    )
    .action((o: SipFlags) =>
      runService(
        `sip ${o.edge}`,
        async (log) => {
          const id = o.id ?? `${o.edge}-${randomBytes(3).toString("hex")}`;
          if (o.allow.length === 0)
            log.warn(
              { allow: DEFAULT_ALLOW },
              "no --allow given: only this machine may place calls; give the carrier's or PBX's networks with --allow",
            );
          if (o.digestUsers?.users.size === 0)
            log.warn(
              { path: o.digestUsers.path },
              "the digest users file has no users: it admits no one yet",
            );
          const digest = o.digestUsers && new DigestCheck(o.digestUsers.users);
          // Before anything is awaited: a SIGHUP with no listener would end the process.
          const reload = digest && o.digestUsers && reloadOnHangup(o.digestUsers.path, digest, log);
          const nc = await connectNats(natsUrl(o.nats), `switchboard-sip-${id}`);
          const access = new InboundAccess(o.allow.length > 0 ? o.allow : DEFAULT_ALLOW);
          const trunks = await watchTrunks(nc, access, log);
          const registrationStore = digest && (await openRegistrations(nc, id, o.id !== undefined, log));
          const gateway = await SipGateway.start({
            nc,
            edge: o.edge,
            id,
            address: o.listen.address,
            port: o.listen.port,
            recogniser: recogniserFrom(o.speech),
            tts: o.tts,
            rtpPorts: o.rtpPorts,
            ...(o.mediaAddress && { mediaAddress: o.mediaAddress }),
            ...(o.advertise && { advertise: o.advertise }),
            access,
            ...(digest && { digest }),
            ...(registrationStore && { registrationStore }),
            ...(o.realmAccount.length > 0 && { realmAccounts: new Map(o.realmAccount) }),
            phonePings: o.pingPhones > 0 && { ...DEFAULT_PINGS, intervalMs: o.pingPhones * 1000 },
            ...(trunks && { trunks }),
            log,
            // The gateway fetches tenants' <Play> URLs: internal networks are refused unless allowed.
            egress: EgressPolicy.internalDenied(splitList(o.allowEgress)),
          });
          log.info(
            {
              id,
              sip: `${o.listen.address}:${o.listen.port}`,
              rtp: o.rtpPorts.join("-"),
              allow: gateway.access.cidrs,
              trunkNetworks: gateway.access.trunkCidrs,
              ...(o.digestUsers && { digestUsers: o.digestUsers.users.size }),
            },
            "listening",
          );
          return {
            stop: async () => {
              await gateway.stop();
              trunks?.stop();
              await nc.drain();
              if (reload) process.off("SIGHUP", reload);
            },
          };
        },
        { component: "sip", edge: o.edge },
      ),
    );
}

/**
 * Where the registered phones outlive a restart: `sb_sip_registrations`, under this gateway's id.
 * Without it (a NATS user from before it existed) they are kept in memory only, and said so.
 */
async function openRegistrations(
  nc: NatsConnection,
  id: string,
  named: boolean,
  log: Logger,
): Promise<RegistrationStore | undefined> {
  // A random id is new at every start: what it stored would never be read again.
  if (!named) {
    log.warn("no --id given: registered phones are kept in memory only, so a restart forgets them");
    return undefined;
  }
  try {
    return await RegistrationStore.open(nc, id, log);
  } catch (err) {
    log.warn({ err }, `cannot open ${buckets.sipRegistrations}: registered phones are kept in memory only`);
    return undefined;
  }
}

function parseListen(value: string): { address: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535)
    throw new InvalidArgumentError("expected IPv4:port, e.g. 127.0.0.1:5060");
  return { address: m[1] as string, port };
}

function parseAllow(value: string): string {
  try {
    parseCidr(value);
    return value;
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message} (expected a CIDR such as 203.0.113.0/24)`);
  }
}

function parseRealmAccount(value: string): [string, string] {
  const [realm = "", sid = "", ...rest] = value.split("=");
  if (rest.length > 0 || !/^[A-Za-z0-9.-]+$/.test(realm) || !/^AC[0-9a-f]{32}$/.test(sid))
    throw new InvalidArgumentError("must be REALM=AC followed by 32 lower-case hex digits");
  return [realm.toLowerCase(), sid];
}

function parsePingSeconds(value: string): number {
  const n = Number(value);
  // Pings closer than their own 5 s to answer would overlap.
  if (!/^\d+$/.test(value) || (n !== 0 && (n < 5 || n > 3600)))
    throw new InvalidArgumentError("must be 0 (never) or whole seconds from 5 to 3600");
  return n;
}

function parseDigestUsers(path: string): { path: string; users: SipUsers } {
  try {
    return { path, users: SipUsers.read(path) };
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/**
 * Re-reads the users file on SIGHUP (a password changed, a user added or removed) without dropping a
 * call. A line that cannot be read (a file being edited by hand) leaves the users as they were; a
 * file gone or unreadable admits no one, so a removal that changed its owner still revokes. Returns
 * the listener, to remove.
 */
function reloadOnHangup(path: string, digest: DigestCheck, log: Logger): () => void {
  const reload = () => {
    try {
      const users = SipUsers.read(path);
      digest.setUsers(users);
      log.info({ path, users: users.size }, "digest users reloaded");
    } catch (err) {
      if (err instanceof SipUsersError && err.unreadable) {
        digest.setUsers(SipUsers.parse(""));
        log.error({ err }, "cannot read the digest users; admitting no one until it can");
      } else log.warn({ err }, "cannot reload the digest users; keeping the ones before");
    }
  };
  process.on("SIGHUP", reload);
  return reload;
}

function parseRange(value: string): [number, number] {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value);
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (!m || lo < 1024 || hi > 65535 || hi - lo < 1)
    throw new InvalidArgumentError(
      "expected a range of at least two ports within 1024-65535, e.g. 20000-20999",
    );
  return [lo, hi];
}

/** An engine spec recogniserFrom takes, checked before anything starts. */
function parseSpeech(value: string): string {
  try {
    recogniserFrom(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  return value;
}

/** The engine `--tts` names; an unknown one is an error before anything starts. */
function parseTts(value: string): TtsEngine {
  try {
    return ttsEngineFrom(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}
