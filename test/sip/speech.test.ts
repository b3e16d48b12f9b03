// Speech on real SIP calls (issue #18): sipp says an espeak-ng utterance into a <Gather input="speech">
// while its prompt plays; the gateway's voice activity detection and pocketsphinx (Debian) turn it
// into the SpeechResult the app's action receives. A silent caller times out as Twilio's does.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { recogniserFrom } from "../../src/sip/speech/engines.js";
import { startTestEngine } from "../helpers/engine.js";
import { startTwilioApp, VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, sipp, startGateway } from "./harness.js";

const exec = promisify(execFile);
const PROMPT =
  "Thank you for calling. Please tell us in a few words what you are calling about today, " +
  "and we will put you through to the right person as soon as we can.";

/** A directory whose utterance.ulaw is `words` spoken by espeak-ng as raw 8 kHz μ-law (or 3 s of silence). */
async function utteranceDir(words: string | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sb-speech-"));
  const out = join(dir, "utterance.ulaw");
  if (words === undefined) {
    await writeFile(out, new Uint8Array(3 * 8000).fill(0xff));
    return dir;
  }
  await exec("espeak-ng", ["-v", "en-us", "-s", "140", "-w", join(dir, "said.wav"), words]);
  await exec("sox", [join(dir, "said.wav"), "-r", "8000", "-c", "1", "-t", "ul", out]);
  expect((await readFile(out)).length).toBeGreaterThan(4000);
  return dir;
}

async function speechCall(words: string | undefined, gather: Record<string, string | number>) {
  await using engine = await startTestEngine();
  await using app = await startTwilioApp(engine.authToken, {
    "/voice": () => {
      const r = new VoiceResponse();
      r.gather({ input: ["speech"], action: "/heard", ...gather }).say(PROMPT);
      r.redirect("/nothing");
      return { body: r.toString() };
    },
    "/heard": () => ({ body: new VoiceResponse().hangup().toString() }),
    "/nothing": () => ({ body: new VoiceResponse().hangup().toString() }),
  });
  await engine.addNumber({ number: "+15551230018", voiceUrl: `${app.url}/voice` });
  await using gw = await startGateway(engine);
  await using phone = await phoneRtp();
  const caller = await sipp(gw.sipPort, "speech.xml", {
    to: "+15551230018",
    keys: { rtpport: phone.port },
    cwd: await utteranceDir(words),
    timeoutS: 25,
  });
  expect(caller.code, caller.stdout + caller.stderr).toBe(0);
  const voice = await app.waitFor((r) => r.path === "/voice");
  const next = await app.waitFor((r) => r.path === "/heard" || r.path === "/nothing");
  // The Gather's warnings are written before its action is requested.
  const warnings = (await engine.notifications(voice.params.CallSid ?? "")).map((n) => n.error_code);
  return { voice, next, phone, warnings, requests: app.requests.map((r) => r.path) };
}

describe("<Gather input=speech> on a SIP call", () => {
  it("hears the caller's answer with hints, cutting the prompt short, and gives the action SpeechResult", {
    timeout: 30_000,
  }, async () => {
    const { voice, next, warnings, phone } = await speechCall("two three four", {
      hints: "yes, no, two three four",
      speechTimeout: "auto",
    });
    expect(warnings).toEqual([]);
    expect(next.path).toBe("/heard");
    expect(next.params.SpeechResult).toBe("two three four");
    expect(Number(next.params.Confidence)).toBeGreaterThan(0);
    // Barge-in: the prompt (≈ 9 s) was stopped by the speech 1.5 s after the answer; the utterance
    // (≈ 1.5 s), a second of quiet and the recognition end the Gather well before the prompt would have.
    expect(next.at - voice.at).toBeLessThan(7_000);
    // What the caller heard: the prompt for the 1.5 s before it spoke, not its 9 s.
    const voiced = phone.packets.filter((p) => p.payload.some((b) => b !== 0xff && b !== 0x7f)).length;
    expect(voiced).toBeGreaterThan(40);
    expect(voiced).toBeLessThan(200);
  });

  it("recognises a language pocketsphinx lacks as en-US, with Twilio's warning 13331", {
    timeout: 30_000,
  }, async () => {
    const { next, warnings } = await speechCall("yes", {
      hints: "yes, no",
      language: "fr-FR",
      speechTimeout: 1,
    });
    expect(next.params.SpeechResult).toBe("yes");
    expect(warnings).toContain("13331");
  });

  it("times out on a silent caller: no action, the next verb runs", { timeout: 30_000 }, async () => {
    const { voice, next, requests } = await speechCall(undefined, { hints: "yes, no", timeout: 2 });
    expect(next.path).toBe("/nothing");
    expect(requests).not.toContain("/heard");
    // The prompt played to its end (nothing barged in), then the 2 s timeout.
    expect(next.at - voice.at).toBeGreaterThan(8_000);
  });

  it("transcribes a <Record transcribe> with the gateway's recogniser", { timeout: 30_000 }, async () => {
    // An operator's recogniser (--speech command:…), a real program: it reads the recorded WAV and
    // says how loud it was, which shows the caller's words reached it and its text the transcription.
    const dir = await utteranceDir("please call me back tomorrow morning");
    const program = join(dir, "loudness.sh");
    await writeFile(
      program,
      "#!/bin/sh\nsox -t wav - -n stat 2>&1 | awk '/RMS +amplitude/ { print \"the caller spoke at rms \" $3 }'\n",
    );
    await chmod(program, 0o755);
    await using engine = await startTestEngine();
    await using app = await startTwilioApp(engine.authToken, {
      "/voice": () => {
        const r = new VoiceResponse();
        r.record({
          action: "/recorded",
          timeout: 2,
          playBeep: false,
          trim: "do-not-trim",
          transcribe: true,
          transcribeCallback: "/transcribed",
        });
        return { body: r.toString() };
      },
      "/recorded": () => ({ body: new VoiceResponse().hangup().toString() }),
      "/transcribed": () => ({ body: "" }),
    });
    await engine.addNumber({ number: "+15551230018", voiceUrl: `${app.url}/voice` });
    await using gw = await startGateway(engine, "gw1", { recogniser: recogniserFrom(`command:${program}`) });
    await using phone = await phoneRtp();
    const caller = await sipp(gw.sipPort, "speech.xml", {
      to: "+15551230018",
      keys: { rtpport: phone.port },
      cwd: dir,
      timeoutS: 25,
    });
    expect(caller.code, caller.stdout + caller.stderr).toBe(0);
    const transcribed = await app.waitFor((r) => r.path === "/transcribed", 15_000);
    expect(transcribed.params.TranscriptionStatus).toBe("completed");
    const rms = Number(
      /^the caller spoke at rms ([0-9.]+)$/.exec(transcribed.params.TranscriptionText ?? "")?.[1],
    );
    expect(rms).toBeGreaterThan(0.01);
  });
});
