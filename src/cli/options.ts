// Options and helpers every command shares.
import { type Command, InvalidArgumentError, Option } from "commander";
import { SwitchboardError } from "../errors/switchboard-error.js";
import { GEO_KEYS } from "../protocol/offer.js";
import { NAME_PATTERN } from "../protocol/subjects.js";

export function natsOption(): Option {
  return new Option(
    "--nats <url>",
    "NATS server URL, or several seeds separated by commas (default: $NATS_URL, else nats://127.0.0.1:4222)",
  );
}

/**
 * `--operator-token`: logs in to the visualizer as the operator, who sees every account's calls.
 * The environment is preferred: a flag shows in the process list. Checked by `operatorToken`, not
 * by commander, whose error would print the value.
 */
export function operatorTokenOption(): Option {
  return new Option(
    "--operator-token <token>",
    "lets `operator` log in to /viz/ and see every account's calls (prefer the environment)",
  ).env("SWITCHBOARD_OPERATOR_TOKEN");
}

/** The operator token to use (undefined when unset or empty); throws, without echoing it, when weak. */
export function operatorToken(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\S{16,200}$/.test(value)) {
    throw new Error(
      "the operator token (--operator-token, SWITCHBOARD_OPERATOR_TOKEN) must be 16-200 characters, no spaces",
    );
  }
  return value;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseName(value: string): string {
  if (!NAME_PATTERN.test(value))
    throw new InvalidArgumentError("lower-case letters, digits and '-', e.g. us1");
  return value;
}

/** An http(s) origin (a path is kept), e.g. the api's address as apps reach it. */
export function parseHttpUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value.replace(/\/+$/, "");
  } catch {}
  throw new InvalidArgumentError("an http(s) URL, e.g. https://switchboard.example.com");
}

export function parseNames(value: string): string[] {
  return value.split(",").map((v) => parseName(v.trim()));
}

/** `--geo FromCity=Dublin` (repeatable): one of Twilio's geographic parameters for the webhook. */
export function geoOption(): Option {
  return new Option(
    "--geo <Name=value>",
    `a geographic parameter the webhook receives (repeat): ${GEO_KEYS.join(", ")}`,
  )
    .argParser(collectGeo)
    .default({}, "none");
}

function collectGeo(spec: string, previous: Record<string, string>): Record<string, string> {
  const at = spec.indexOf("=");
  const name = spec.slice(0, at);
  if (at <= 0 || !GEO_KEYS.includes(name))
    throw new InvalidArgumentError(`expected Name=value, Name one of ${GEO_KEYS.join(", ")}`);
  const value = spec.slice(at + 1);
  if (value.length > 128) throw new InvalidArgumentError("a value of at most 128 characters");
  return { ...previous, [name]: value };
}

export function parseNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`a number from ${min} to ${max}`);
    return n;
  };
}

/** Runs a one-shot command: prints a one-line error (with its code) and exits 1 on failure. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      const code = err instanceof SwitchboardError ? ` ${err.code}` : "";
      process.stderr.write(
        `error${code}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}\n`,
      );
      process.exit(1);
    }
  };
}

export type CommandRegistrar = (program: Command) => void;

/** "a, b,c" -> ["a", "b", "c"]; undefined or "" -> []. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}
