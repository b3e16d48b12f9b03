// Where an outbound leg to a registered user goes: `sip:alice@sip.example.com` (an address of record
// of the gateway's digest users) becomes every Contact its phones registered, each sent where its
// REGISTER came from (behind NAT, where the phone is reached), with the address of record in To.
// The leg rings them all at once, as Twilio forks a call to all of a user's registered devices.
import { type Binding, passwordMark, type Registrations } from "./registrations.js";
import { hopOf } from "./ua/dialog.js";
import type { DigestCheck } from "./ua/digest-check.js";
import { type Hop, parseUri } from "./ua/stack.js";
import { decodeUser } from "./ua/uris.js";

/** One registered phone: its Contact, and the flow its REGISTER came by. */
export interface BoundPhone {
  uri: string;
  hop: Hop;
}

export type RegisteredTarget =
  /** The newest registration first. */
  | { kind: "bound"; phones: BoundPhone[]; to: string }
  /** A user of the file with no live registration: 480 (RFC 3261 §10.3, a user with no bindings). */
  | { kind: "unregistered"; aor: string }
  /** Registered, but no phone of the user answers its pings (phone-pings.ts): 480 as well. */
  | { kind: "unreachable"; aor: string }
  /** A user of a realm that belongs to another account than the calling one (Twilio's 32214). */
  | { kind: "foreign"; aor: string };

/** Who dials, and which account each realm belongs to (`--realm-account`; a realm not named: any). */
export interface Dialler {
  accountSid: string | undefined;
  realmAccounts: ReadonlyMap<string, string> | undefined;
}

/** undefined when `uri` is no address of record of this gateway's (a SIP URI like any other). */
export function registeredTarget(
  registrations: Registrations,
  digest: DigestCheck | undefined,
  uri: string,
  reachable: (b: Binding) => boolean = () => true,
  dialler?: Dialler,
): RegisteredTarget | undefined {
  if (!digest) return undefined; // no users, no registrations
  const parsed = parseUri(uri);
  // An address of record names no port (the package reads a missing one as NaN).
  if (!parsed?.host || Number.isFinite(parsed.port)) return undefined;
  const user = decodeUser(parsed.user);
  if (!user) return undefined;
  const host = parsed.host;
  // A host names a domain whatever its case; the users file writes its realm one way.
  const realm = [host, host.toLowerCase()].find((r) => digest.ha1Of(r, user) !== undefined);
  if (realm === undefined) return undefined;
  const aor = `${user}@${realm}`;
  const owner = dialler?.realmAccounts?.get(realm.toLowerCase());
  if (owner !== undefined && owner !== dialler?.accountSid) return { kind: "foreign", aor };
  // A binding made with a password that has changed since is its old holder's: it rings no more.
  const password = passwordMark(digest.ha1Of(realm, user) as string);
  registrations.drop(aor, (b) => b.password !== password);
  const bindings = registrations.bindings(aor);
  if (bindings.length === 0) return { kind: "unregistered", aor };
  const phones = bindings.filter(reachable).map((b) => ({ uri: b.contact, hop: hopOf(b.source) }));
  if (phones.length === 0) return { kind: "unreachable", aor };
  return { kind: "bound", phones, to: `sip:${parsed.user}@${realm}` };
}
