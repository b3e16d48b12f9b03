// The command line's own manners: --version, required options marked in --help, and a usage error
// that prints the one wrong thing and a pointer to --help (exit 2), never the whole help.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

describe("switchboard's command line", () => {
  it("prints its version", async () => {
    expect(await runCli(["--version"])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it("marks required options in --help", async () => {
    const help = await runCli(["call", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--to <number>\s+the called number \(E\.164\) \(required\)/);
    expect(help.stdout).toMatch(/--from <number>.*\(required\)/);
    expect(help.stdout).not.toMatch(/--digits <keys>.*\(required\)/);
  });

  it("answers a usage error with the one wrong thing and where to look, exit 2", async () => {
    const missing = await runCli(["call", "--to", "+15551230000"]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe(
      `error: required option '--from <number>' not specified\nrun "switchboard call --help" for usage\n`,
    );
    const nested = await runCli(["numbers", "add", "+15551230000", "--region", "US 1", "--voice-url", "x"]);
    expect(nested.code).toBe(2);
    expect(nested.stderr.split("\n").filter(Boolean)).toHaveLength(2);
    expect(nested.stderr).toMatch(/run "switchboard numbers add --help" for usage\n$/);
    const typo = await runCli(["cal"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/Did you mean call\?/);
  });
});
