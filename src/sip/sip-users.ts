// The callers who may place calls through a gateway by digest authentication (`switchboard sip
// --digest-users FILE`), from outside its --allow networks: an htdigest file, Apache's format, one
// `user:realm:HA1` a line with HA1 = MD5(user:realm:password). No password is kept in clear: as
// Twilio keeps a credential list's passwords (MD5-hashed, as digest authentication needs), so that
// the file serves only for calls in its own realm.
import { readFileSync } from "node:fs";

/** A file that cannot be read (`unreadable`: not there, not ours to read), or a line of it, named by its number. */
export class SipUsersError extends Error {
  override readonly name = "SipUsersError";

  constructor(
    message: string,
    readonly unreadable = false,
  ) {
    super(message);
  }
}

export class SipUsers {
  private constructor(private readonly byRealm: ReadonlyMap<string, ReadonlyMap<string, string>>) {}

  /** Reads an htdigest file's text; throws SipUsersError naming the first line it cannot take. */
  static parse(text: string, source = "the users file"): SipUsers {
    const byRealm = new Map<string, Map<string, string>>();
    const lines = text.split("\n");
    lines.forEach((raw, i) => {
      const line = raw.replace(/\r$/, "");
      if (line.trim() === "" || line.trimStart().startsWith("#")) return;
      const bad = (why: string) => new SipUsersError(`${source}, line ${i + 1}: ${why}`);
      const fields = line.split(":");
      if (fields.length !== 3) throw bad("expected user:realm:HA1 (htdigest's format)");
      const [user, realm, ha1] = fields as [string, string, string];
      // Both go in a quoted header parameter: no quote, backslash, space or control character.
      if (!/^[\x21-\x7e]+$/.test(user) || /["\\]/.test(user))
        throw bad(`user "${user}" is empty or has a space, quote or backslash`);
      if (!/^[\x20-\x7e]+$/.test(realm) || /["\\]/.test(realm))
        throw bad("the realm is empty or has a quote or backslash");
      if (!/^[0-9a-f]{32}$/i.test(ha1))
        throw bad("the HA1 is not 32 hex digits (MD5 of user:realm:password)");
      const users = byRealm.get(realm) ?? new Map<string, string>();
      if (users.has(user)) throw bad(`user "${user}" is in realm "${realm}" twice`);
      users.set(user, ha1.toLowerCase());
      byRealm.set(realm, users);
    });
    // No users is a file all of whose users were removed: it must take effect, and refuse everyone.
    return new SipUsers(byRealm);
  }

  /** Reads an htdigest file (small, read at start and on SIGHUP: synchronously). */
  static read(path: string): SipUsers {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new SipUsersError(`cannot read ${path}: ${(err as Error).message}`, true);
    }
    return SipUsers.parse(text, path);
  }

  /** Users in every realm. */
  get size(): number {
    let n = 0;
    for (const users of this.byRealm.values()) n += users.size;
    return n;
  }

  /**
   * The realm a request to `host` (its Request-URI's host) is challenged in: the host itself when the
   * file has users in it (one gateway for several SIP domains, as Twilio's domains are realms), else
   * the file's first realm; undefined when it has no users.
   */
  realmFor(host: string | undefined): string | undefined {
    if (host !== undefined && this.byRealm.has(host)) return host;
    return this.byRealm.keys().next().value;
  }

  /** Every user and its realm, in the file's order. */
  list(): { realm: string; user: string }[] {
    return [...this.byRealm].flatMap(([realm, users]) => [...users.keys()].map((user) => ({ realm, user })));
  }

  /** The user's HA1 in `realm`, lower-case hex; undefined for no such user. */
  ha1(realm: string, user: string): string | undefined {
    return this.byRealm.get(realm)?.get(user);
  }
}
