// `switchboard call` prints the call's steps in the call's own order, run after run: `offered`
// first, each webhook's response before the channel commands its TwiML caused, the same lines in
// the same order every time (the built CLI in a child process, against a real engine).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { CALLER, FINISHING, startVizStage, type VizStage } from "../visualizer/stage.js";

let stage: VizStage;

beforeAll(async () => {
  stage = await startVizStage();
});

afterAll(async () => {
  await stage?.[Symbol.asyncDispose]();
});

const COMMANDS = /^(say|play|pause|gather|record|digits|dial|reject) /;

/** The printed lines without their times, and without the CallSid that differs per run. */
async function callLines(): Promise<string[]> {
  const r = await runCli([
    "call",
    "--to",
    FINISHING,
    "--from",
    CALLER,
    "--digits",
    "1",
    "--nats",
    stage.nats.urlAs("admin"),
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((l) =>
      l
        .replace(/^ *\d+\.\d{3} {2}/, "")
        .replace(/CA[0-9a-f]{32}/g, "CA…")
        .replace(/ in [\d.]+ ms$/, " in … ms"),
    );
}

describe("switchboard call", () => {
  it("prints in the call's order: offered first, each response before the commands it caused, every run the same", async () => {
    const runs: string[][] = [];
    for (let i = 0; i < 4; i++) runs.push(await callLines());
    for (const lines of runs) {
      expect(lines[0]).toMatch(/^offered {2}CA…, stored in region us1$/);
      // Between a request and its response, no command of the document it fetched can have run.
      let waiting: string | null = null;
      for (const line of lines) {
        if (line.startsWith("webhook ")) waiting = line;
        else if (line.trimStart().startsWith("<- ")) waiting = null;
        else if (COMMANDS.test(line))
          expect(waiting, `${line} printed before the response to ${waiting}`).toBeNull();
      }
      const at = (text: string) => lines.findIndex((l) => l.includes(text));
      expect(at("/menu")).toBeGreaterThan(at("digits   1"));
      expect(at('say      "You pressed one."')).toBeGreaterThan(at("/menu") + 1);
      expect(lines.at(-2)).toMatch(/^ended {4}completed in us1/);
    }
    for (const lines of runs.slice(1)) expect(lines).toEqual(runs[0]);
  });
});
