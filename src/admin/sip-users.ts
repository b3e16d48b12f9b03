// Adding and removing a gateway's digest users (`switchboard sip-users`): lines of its htdigest file
// (`user:realm:HA1`, read by `switchboard sip --digest-users`, src/sip/sip-users.ts). A password is
// checked against Twilio's rule for credential lists and kept only as its HA1.
import { createHash, randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { fail } from "../errors/switchboard-error.js";
import { SipUsers } from "../sip/sip-users.js";

/** A user name: what Twilio takes (at most 32 characters), and what fits the file and a quoted header. */
export function checkSipUserName(name: string): string {
  // A line starting with # is a comment to the file's reader.
  if (!/^[\x21-\x7e]{1,32}$/.test(name) || /[:"\\]/.test(name) || name.startsWith("#"))
    throw fail(
      "invalidParameter",
      `user name "${name}": 1 to 32 printable characters, without spaces, ':', '"' or '\\', not starting with '#'`,
    );
  return name;
}

/** A realm (the SIP domain phones call, e.g. sip.example.com): printable, without ':', '"' or '\'. */
export function checkRealm(realm: string): string {
  if (!/^[\x21-\x7e]{1,253}$/.test(realm) || /[:"\\]/.test(realm))
    throw fail("invalidParameter", `realm "${realm}": a host name, without ':', '"' or '\\'`);
  return realm;
}

/** Twilio's rule for a credential's password: at least 12 characters, mixed case, a digit. */
export function checkSipPassword(password: string): string {
  if (password.length < 12 || !/[a-z]/.test(password) || !/[A-Z]/.test(password) || !/\d/.test(password))
    throw fail(
      "invalidParameter",
      "the password must have at least 12 characters, an upper-case and a lower-case letter, and a digit",
    );
  return password;
}

export function ha1(user: string, realm: string, password: string): string {
  return createHash("md5").update(`${user}:${realm}:${password}`).digest("hex");
}

/** The file's lines with `user` in `realm` set to `line` (in its place, or added at the end). */
export function withUser(text: string, user: string, realm: string, line: string): string {
  const lines = linesOf(text);
  const at = lines.findIndex((l) => isUser(l, user, realm));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  return `${lines.join("\n")}\n`;
}

/** The file's lines without `user` in `realm`; undefined when it is not there. */
export function withoutUser(text: string, user: string, realm: string): string | undefined {
  const lines = linesOf(text);
  const kept = lines.filter((l) => !isUser(l, user, realm));
  return kept.length === lines.length ? undefined : kept.length ? `${kept.join("\n")}\n` : "";
}

/** The file's text, "" when there is no file yet. */
export async function readUsersFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

/**
 * Writes the file whole, by renaming a new file over it: a gateway re-reading it on SIGHUP never sees
 * half of it. The new file keeps the old one's owner and group (when this process may give them) and
 * its mode, at most 640 (an HA1 authenticates as the password does); a first file is 600. A result
 * the gateway could not read is refused before anything is written. Resolves with a warning when the
 * file's owner could not be kept, as the gateway's user may no longer read it.
 */
export async function writeUsersFile(path: string, text: string): Promise<string | undefined> {
  SipUsers.parse(text, path);
  const before = await stat(path).catch(() => undefined);
  // A name no one can have put there first ("wx": a file or a link already there is an error).
  const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(temporary, "wx", 0o600);
  let warning: string | undefined;
  try {
    await file.writeFile(text);
    if (before) {
      await file.chmod((before.mode & 0o640) | 0o600);
      if (before.uid !== process.getuid?.() || before.gid !== process.getgid?.())
        await file.chown(before.uid, before.gid).catch(() => {
          warning = `${path} was owned by uid ${before.uid}, gid ${before.gid}, and is now yours: the gateway may not read it`;
        });
    }
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await file.close();
  try {
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  return warning;
}

function linesOf(text: string): string[] {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function isUser(line: string, user: string, realm: string): boolean {
  return line.startsWith(`${user}:${realm}:`);
}
