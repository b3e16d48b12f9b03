// pino everywhere: JSON lines for machines (tests parse them), pretty when a person is watching.
// Secrets never reach a log line: known secret fields are redacted wherever they sit (up to four
// levels deep) and credentials in any URL are cut from the serialized line (docs/security.md).
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

/** Field names whose values are secrets: auth tokens, passwords, signing keys, credentials. */
const SECRET_KEYS = [
  "auth_token",
  "authToken",
  "token",
  "password",
  "pass",
  "secret",
  "signing_key",
  "signingKey",
  "signing_secret",
  "signingSecret",
  "webhook_signing_key",
  "authorization",
  "x-twilio-signature",
  "cookie",
  "set-cookie",
];

const segment = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`);

/** fast-redact has no recursive wildcard: each name is listed at depths 0 to 3. */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => {
  const s = segment(key);
  return [s.startsWith(".") ? s.slice(1) : s, `*${s}`, `*.*${s}`, `*.*.*${s}`];
});

const CENSOR = "[Redacted]";

/** `scheme://user:pass@host` -> `scheme://[Redacted]@host` in a serialized line (JSON-escaped or not). */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:(?:\\?\/){2})[^\s/?#@"\\]+@/gi;

export function withoutUrlCredentials(line: string): string {
  return line.includes("@") ? line.replace(URL_CREDENTIALS, `$1${CENSOR}@`) : line;
}

/** The options every switchboard logger is built with (exported for tests and embedders). */
export function loggerOptions(name: string, level: string): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: [...REDACT_PATHS], censor: CENSOR },
    hooks: { streamWrite: withoutUrlCredentials },
  };
}

/**
 * A logger named `name`. `destination` replaces stdout (tests pass a sink that captures lines);
 * without it, a TTY gets pino-pretty.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? "info",
  destination?: DestinationStream,
): Logger {
  const options = loggerOptions(name, level);
  if (destination) return pino(options, destination);
  if (process.stdout.isTTY) {
    return pino({
      ...options,
      transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname" } },
    });
  }
  return pino(options);
}
