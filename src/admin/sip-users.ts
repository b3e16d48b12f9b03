// Adding and removing a gateway's digest users (`switchboard sip-users`): lines of its htdigest file
// (`user:realm:HA1`, read by `switchboard sip --digest-users`, src/sip/sip-users.ts). A password is
// checked against Twilio's rule for credential lists and kept only as its HA1.
import { createHash } from "node:crypto";
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { fail } from "../errors/switchboard-error.js";
import { SipUsers } from "../sip/sip-users.js";

/** A user name: what Twilio takes (at most 32 characters), and what fits the file and a quoted header. */
export function checkSipUserName(name: string): string {
  if (!/^[\x21-\x7e]{1,32}$/.test(name) || /[:"\\]/.test(name))
    throw fail(
      "invalidParameter",
      `user name "${name}": 1 to 32 printable characters, without spaces, ':', '"' or '\\'`,
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
 * Writes the file whole, readable by its owner only (an HA1 authenticates as the password does), by
 * renaming a new file over it: a gateway re-reading it on SIGHUP never sees half of it. A result the
 * gateway could not read is refused before anything is written.
 */
export async function writeUsersFile(path: string, text: string): Promise<void> {
  SipUsers.parse(text, path);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

function linesOf(text: string): string[] {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function isUser(line: string, user: string, realm: string): boolean {
  return line.startsWith(`${user}:${realm}:`);
}
