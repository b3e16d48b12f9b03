// How the whole command line behaves, whatever the command: --version, required options marked in
// --help, a usage error as one line and a pointer to --help (exit 2), and quiet ends on a closed pipe.
import { readFileSync } from "node:fs";
import { Command, Help, type Option } from "commander";

/** Exit codes (README "Exit codes"): 0 success, 1 the command or the call failed, 2 a usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function createProgram(): Command {
  return new Command("switchboard")
    .description("an open-source, Twilio-compatible call engine over NATS")
    .version(packageVersion(), "-V, --version", "print the version")
    .showSuggestionAfterError()
    .enablePositionalOptions()
    .configureHelp({
      optionDescription(option: Option): string {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    })
    .exitOverride((err) => {
      // --help and --version end with 0; every other commander error is a usage error.
      process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
    });
}

/** After every command is registered: each one's usage errors point at its own --help. */
export function pointUsageErrorsAtHelp(command: Command, path: string[] = []): void {
  const name = ["switchboard", ...path].join(" ");
  command.showHelpAfterError(`run "${name} --help" for usage`);
  for (const sub of command.commands) pointUsageErrorsAtHelp(sub, [...path, sub.name()]);
}

/**
 * `switchboard trace … | head`: once the reader has gone, writing more is pointless; end quietly
 * with success (the reader took what it wanted) instead of an unhandled EPIPE stack trace.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(EXIT.ok);
      throw err;
    });
  }
}

function packageVersion(): string {
  // Compiled, this file is dist/src/cli/program.js; run from source, src/cli/program.ts.
  for (const up of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as Record<string, string>;
      if (pkg.name === "switchboard" && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return "unknown";
}
