// <Say> on real SIP calls through an operator's text to speech (issue #18): a command engine and an
// HTTP engine each render a tone of their own, and the caller (sipp) must hear THAT tone; a prompt is
// synthesised once per (text, voice, language); an engine that fails gives the call a 90011 error
// notification and the call goes on with its next verb, as after any failed verb.
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ulawToLinear } from "../../src/sip/rtp/g711.js";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import { ttsEngineFrom } from "../../src/sip/tts/engines.js";
import type { NotificationRecord } from "../../src/store/notifications.js";
import { startTestEngine, type TestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { pcmOf, powerAt } from "./audio.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

/** A command engine: logs each prompt it is asked for, and "says" it as a tone its language picks. */
async function toneEngine(): Promise<{ spec: string; log: string }> {
  const dir = await mkdtemp(join(tmpdir(), "sb-tts-call-"));
  const log = join(dir, "asked");
  const program = join(dir, "tts.sh");
  await writeFile(
    program,
    `#!/bin/sh
text=$(cat)
echo "$text|$SB_TTS_VOICE|$SB_TTS_LANGUAGE" >> "${log}"
case "$text" in *broken*) echo "cannot say that" >&2; exit 2;; esac
case "$SB_TTS_LANGUAGE" in fr-*) hz=1400;; *) hz=600;; esac
exec sox -n -r 16000 -c 1 -b 16 -t wav - synth 0.4 sine $hz
`,
  );
  await chmod(program, 0o755);
  return { spec: `command:${program}`, log };
}

/** Runs one call to `voiceUrl` through a gateway using `tts`; resolves with what the caller heard. */
async function call(engine: TestEngine, voiceUrl: string, tts: string) {
  await engine.addNumber({ number: "+15551230021", voiceUrl });
  await using gw = await startGateway(engine, "gw1", { tts: ttsEngineFrom(tts) });
  await using phone = await phoneRtp();
  const result = await sipp(gw.sipPort, "short.xml", {
    to: "+15551230021",
    keys: { rtpport: phone.port },
    timeoutS: 15,
  });
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return pcmOf(phone.packets, ulawToLinear, 0);
}

/** The call's notifications once `count` are written (bounded: they are written as the call runs). */
async function notifications(
  engine: TestEngine,
  callSid: string,
  count: number,
): Promise<NotificationRecord[]> {
  const until = Date.now() + 5_000;
  for (;;) {
    const notes = await engine.notifications(callSid);
    if (notes.length >= count || Date.now() > until) return notes;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** How many 20 ms frames of `pcm` are loud. */
const loudFrames = (pcm: Int16Array) => {
  let n = 0;
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    let sum = 0;
    for (let j = i; j < i + 160; j++) sum += Math.abs(pcm[j] as number);
    if (sum / 160 > 1000) n++;
  }
  return n;
};

describe("<Say> through the operator's text to speech on a SIP call", () => {
  it("plays a command engine's audio, synthesising a prompt once per text, voice and language", {
    timeout: 20_000,
  }, async () => {
    const { spec, log } = await toneEngine();
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say({ voice: "Polly.Joanna" }, "Welcome");
        r.say({ voice: "Polly.Joanna" }, "Welcome");
        r.say({ voice: "Polly.Joanna", language: "fr-FR" }, "Welcome");
        r.hangup();
        return { body: r.toString() };
      },
    });
    const heard = await call(engine, `${app.url}/voice`, spec);
    // One synthesis for the two same prompts, one for the other language; the engine got Twilio's voice.
    expect((await readFile(log, "utf8")).trim().split("\n")).toEqual([
      "Welcome|Polly.Joanna|en-US",
      "Welcome|Polly.Joanna|fr-FR",
    ]);
    // Three prompts of 0.4 s (60 frames): the engine's tones, not espeak-ng's speech.
    expect(loudFrames(heard)).toBeGreaterThanOrEqual(55);
    expect(loudFrames(heard)).toBeLessThanOrEqual(62);
    const other = powerAt(heard, 1000);
    expect(powerAt(heard, 600)).toBeGreaterThan(100 * other);
    expect(powerAt(heard, 1400)).toBeGreaterThan(100 * other);
    // Twice as much of the English prompt as of the French one.
    expect(powerAt(heard, 600) / powerAt(heard, 1400)).toBeGreaterThan(2.5);
  });

  it("plays an HTTP engine's WAV; its 500 is a 90011 error on the call, which goes on to the next verb", {
    timeout: 20_000,
  }, async () => {
    const asked: unknown[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        const prompt = JSON.parse(body) as { text: string };
        asked.push(prompt);
        if (prompt.text.includes("broken")) return void res.writeHead(500).end("engine down");
        const pcm = Int16Array.from({ length: 8000 }, (_, i) =>
          Math.round(9000 * Math.sin((2 * Math.PI * 800 * i) / 16000)),
        );
        res.writeHead(200, { "content-type": "audio/wav" }).end(Buffer.from(wavFromPcm(pcm, 16000)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("This prompt is broken");
        r.say({ voice: "woman", language: "en-GB" }, "Still here");
        r.hangup();
        return { body: r.toString() };
      },
    });
    const heard = await call(
      engine,
      `${app.url}/voice`,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/tts`,
    );
    expect(asked).toEqual([
      { text: "This prompt is broken", voice: "man", language: "en-US" },
      { text: "Still here", voice: "woman", language: "en-GB" },
    ]);
    // The failed Say is skipped; the next one is heard (0.5 s of the server's 800 Hz).
    expect(loudFrames(heard)).toBeGreaterThanOrEqual(22);
    expect(powerAt(heard, 800)).toBeGreaterThan(100 * powerAt(heard, 1000));
    const voice = await app.waitFor((r) => r.path === "/voice");
    const notes = await notifications(engine, voice.params.CallSid ?? "", 1);
    expect(notes.map((n) => [n.error_code, n.log])).toEqual([["90011", "0"]]);
    expect(notes[0]?.message_text).toContain("answered 500");
  });

  it("gives a command engine's failure to the call as a 90011 error and plays the next prompt", {
    timeout: 20_000,
  }, async () => {
    const { spec, log } = await toneEngine();
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.say("This is broken");
        r.say("This is fine");
        r.hangup();
        return { body: r.toString() };
      },
    });
    const heard = await call(engine, `${app.url}/voice`, spec);
    expect((await readFile(log, "utf8")).trim().split("\n")).toHaveLength(2);
    expect(loudFrames(heard)).toBeGreaterThanOrEqual(18);
    expect(powerAt(heard, 600)).toBeGreaterThan(100 * powerAt(heard, 1000));
    const voice = await app.waitFor((r) => r.path === "/voice");
    const notes = await notifications(engine, voice.params.CallSid ?? "", 1);
    expect(notes.map((n) => [n.error_code, n.log])).toEqual([["90011", "0"]]);
    expect(notes[0]?.message_text).toContain("cannot say that");
  });
});
