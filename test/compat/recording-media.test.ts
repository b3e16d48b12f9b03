// A recording's media as a Twilio app fetches it (issue #19, item 3): `RecordingUrl` names the api at
// the address the region was given (`switchboard region --api-url`), `.wav` and `.mp3` both play,
// and neither needs credentials until the account turns on "Enforce HTTP Auth on Media URLs"
// (`switchboard accounts update --media-auth on`). Real nats-server, edge, api, a region worker run
// as the CLI, and a webhook app that builds its TwiML with the `twilio` package.
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, startApi } from "../../src/api/server.js";
import { run } from "../../src/media/run.js";
import { readWavHeader } from "../../src/media/wav.js";
import { type CliProcess, runCli } from "../helpers/cli.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { regionWorker } from "../helpers/region-worker.js";
import { startTwilioApp, type TwilioApp, VoiceResponse } from "../helpers/twilio-app.js";

const NUMBER = "+15551238200";

let engine: TestEngine;
let api: Api;
let app: TwilioApp;
let region: CliProcess;
/** The api as the region was told apps reach it: not its default address. */
let publicApi: string;

beforeAll(async () => {
  engine = await startTestEngine({ worker: false });
  api = await startApi({ nc: engine.nc, port: 0, log: pino({ level: "silent" }) });
  publicApi = api.url.replace("127.0.0.1", "localhost");
  region = regionWorker(engine.nats.url, ["--api-url", publicApi]);
  await region.waitForLog("ready", 20_000);
  app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.record({ action: "/done", finishOnKey: "#" });
      return { body: r.toString() };
    },
    "/done": () => {
      const r = new VoiceResponse();
      r.hangup();
      return { body: r.toString() };
    },
  });
  await engine.addNumber({ number: NUMBER, voiceUrl: `${app.url}/voice` });
}, 60_000);

afterAll(async () => {
  await region?.stop();
  await api?.close();
  await app?.close();
  await engine?.[Symbol.asyncDispose]();
});

async function get(url: string, auth?: { sid: string; token: string }) {
  const headers = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.sid}:${auth.token}`).toString("base64")}` }
    : undefined;
  const res = await request(url, { headers });
  return {
    status: res.statusCode,
    type: res.headers["content-type"],
    body: Buffer.from(await res.body.arrayBuffer()),
  };
}

describe("recording media", () => {
  it("names the api's given address and serves .wav and .mp3 without credentials until the account enforces auth", async () => {
    const placed = await engine.call({
      to: NUMBER,
      caller: { recordings: [{ text: "hello", seconds: 3, key: "#" }], timeScale: 0 },
    });
    const action = await app.waitFor(
      (r) => r.path === "/done" && r.params.CallSid === placed.callSid,
      15_000,
    );
    const url = action.params.RecordingUrl ?? "";
    expect(url).toBe(
      `${publicApi}/2010-04-01/Accounts/${engine.accountSid}/Recordings/${action.params.RecordingSid}`,
    );

    const wav = await get(`${url}.wav`);
    expect(wav.status).toBe(200);
    expect(readWavHeader(new Uint8Array(wav.body)).durationMs).toBe(3000);
    const mp3 = await get(`${url}.mp3`);
    expect(mp3.status).toBe(200);
    expect(mp3.type).toBe("audio/mpeg");
    // An MP3 that decodes back to about the recorded length (8 kHz, 16-bit mono: 16 bytes a ms).
    const pcm = await run(
      "sox",
      [
        "-V1",
        "-t",
        "mp3",
        "-",
        "-t",
        "raw",
        "-r",
        "8000",
        "-c",
        "1",
        "-b",
        "16",
        "-e",
        "signed-integer",
        "-",
      ],
      mp3.body,
    );
    expect(pcm.length / 16).toBeGreaterThan(2_900);
    expect(pcm.length / 16).toBeLessThan(3_200);
    expect((await get(url)).status).toBe(200);

    const on = await runCli([
      "accounts",
      "update",
      engine.accountSid,
      "--media-auth",
      "on",
      "--nats",
      engine.nats.url,
    ]);
    expect(on.stderr).toBe("");
    expect(on.stdout).toMatch(/media auth on/);
    // The api's watched copy of the accounts sees the change shortly.
    const owner = { sid: engine.accountSid, token: engine.authToken };
    const deadline = Date.now() + 5_000;
    let denied = await get(`${url}.mp3`);
    while (denied.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      denied = await get(`${url}.mp3`);
    }
    expect(denied.status).toBe(401);
    expect((await get(`${url}.wav`)).status).toBe(401);
    expect((await get(`${url}.mp3`, owner)).status).toBe(200);
    expect((await get(`${url}.wav`, owner)).status).toBe(200);
    expect((await get(`${url}.mp3`, { ...owner, token: "wrong-token-1234" })).status).toBe(401);
  });

  it("documents --api-url in the region's --help, and refuses a value that is not a URL", async () => {
    const help = await runCli(["region", "--help"]);
    expect(help.stdout).toMatch(/--api-url <url>/);
    expect(help.stdout).toMatch(/SWITCHBOARD_API_URL/);
    const bad = await runCli(["region", "--region", "us1", "--api-url", "not a url"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--api-url/);
  });
});
