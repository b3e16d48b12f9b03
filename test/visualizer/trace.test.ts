// `switchboard trace` as a user runs it (the built CLI in a child process) against a real engine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSid } from "../../src/model/sid.js";
import { runCli, startCli } from "../helpers/cli.js";
import { startVizStage, type VizStage } from "./stage.js";

let stage: VizStage;
let nats: string[];

beforeAll(async () => {
  stage = await startVizStage();
  nats = ["--nats", stage.nats.urlAs("admin")];
});

afterAll(async () => {
  await stage?.[Symbol.asyncDispose]();
});

describe("switchboard trace", () => {
  it("prints a finished call's timeline: states, webhooks in order, channel commands", async () => {
    const { callSid } = await stage.placeFinishing();
    const r = await runCli(["trace", callSid, ...nats]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    // The prompts, the 2 s Pause, the caller pressing 1 a second after the Gather's prompt: 8 s.
    expect(lines[0]).toBe(`call ${callSid} in us1: +15557654321 -> +15551230001, completed, duration 8 s`);
    const webhooks = lines.filter((l) => / webhook {2}/.test(l)).map((l) => l.replace(/^.* webhook {2}/, ""));
    expect(webhooks).toEqual([
      expect.stringMatching(
        /^POST http:\/\/127\.0\.0\.1:\d+\/voice {2}CallStatus=ringing {2}-> 200 text\/xml/,
      ),
      expect.stringMatching(
        /^POST http:\/\/127\.0\.0\.1:\d+\/menu {2}CallStatus=in-progress {2}-> 200 text\/xml/,
      ),
      expect.stringMatching(
        /^POST http:\/\/127\.0\.0\.1:\d+\/bye {2}CallStatus=in-progress {2}-> 200 text\/xml/,
      ),
    ]);
    expect(lines).toContainEqual(
      expect.stringMatching(/ channel {2}say "Thanks for calling switchboard\." \(woman, en-US\)$/),
    );
    expect(lines.at(-1)).toMatch(/ state {4}completed {2}\[completed\]/);

    const stately = await runCli(["trace", callSid, "--stately", ...nats]);
    expect(JSON.parse(stately.stdout)[0]).toMatchObject({ type: "@xstate.actor", sessionId: callSid });
  });

  it("follows a live call until it ends", async () => {
    const callSid = await stage.placeParked();
    await using trace = startCli(["trace", callSid, "--follow", ...nats]);
    await trace.waitForLine(/ channel {2}pause 600 s$/);
    stage.hangUp(callSid);
    await trace.waitForLine(/ state {4}completed {2}\[completed\]/);
    expect(await trace.exited).toBe(0);
  });

  it("says so when no region knows the call", async () => {
    const r = await runCli(["trace", newSid("CA"), ...nats]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error 20404: no inspection events for CA[0-9a-f]{32} in us1\n$/);
  });
});
