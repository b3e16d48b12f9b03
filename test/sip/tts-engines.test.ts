// The gateway's text to speech on its own (issue #18): Twilio's voices mapped to espeak-ng's, the
// command and HTTP engines against a real program and a real server, their failures (90011), the
// egress policy on the HTTP engine, and the prompt cache keyed by text, voice and language.
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { wavFromPcm } from "../../src/sip/rtp/wav.js";
import {
  CommandSynthesiser,
  HttpSynthesiser,
  synthesiserFrom,
  ttsEngineFrom,
} from "../../src/sip/tts/engines.js";
import { Espeak } from "../../src/sip/tts/espeak.js";
import { Prompts } from "../../src/sip/tts/prompts.js";
import type { Prompt, Synthesiser } from "../../src/sip/tts/synthesiser.js";
import { espeakVoice } from "../../src/sip/tts/voices.js";
import { WebhookClient } from "../../src/webhook/client.js";
import { EgressPolicy } from "../../src/webhook/egress.js";
import { powerAt } from "./audio.js";

const KNOWN = new Set(["en-us", "en-gb", "es", "es-419", "fr-fr", "de", "cmn", "pt", "pt-br"]);

function web(egress = EgressPolicy.allowAll()): WebhookClient {
  const client = new WebhookClient({ egress });
  onTestFinished(() => client.close());
  return client;
}

async function script(body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sb-tts-"));
  const program = join(dir, "tts.sh");
  await writeFile(program, `#!/bin/sh\n${body}\n`);
  await chmod(program, 0o755);
  return program;
}

async function server(
  handle: (req: IncomingMessage, body: string) => [number, Record<string, string>, Uint8Array],
) {
  const s = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const [status, headers, bytes] = handle(req, body);
      res.writeHead(status, headers).end(Buffer.from(bytes));
    });
  });
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/tts`;
}

const tone = (hz: number, rate = 16000) =>
  wavFromPcm(
    Int16Array.from({ length: rate / 2 }, (_, i) =>
      Math.round(9000 * Math.sin((2 * Math.PI * hz * i) / rate)),
    ),
    rate,
  );

describe("Twilio's voices on espeak-ng", () => {
  it("picks the language's voice and a male or female variant", () => {
    expect(espeakVoice("man", "en-GB", KNOWN)).toBe("en-gb+m3");
    expect(espeakVoice("woman", "fr-FR", KNOWN)).toBe("fr-fr+f3");
    expect(espeakVoice("alice", "xx-YY", KNOWN)).toBe("en-us+f3");
    // No voice for the region: the nearest one, else the bare language.
    expect(espeakVoice("man", "es-MX", KNOWN)).toBe("es-419+m3");
    expect(espeakVoice("man", "de-AT", KNOWN)).toBe("de+m3");
    expect(espeakVoice("woman", "en-AU", KNOWN)).toBe("en-gb+f3");
  });

  it("gives Polly voices their own gender and language, Google voices the language in their name", () => {
    expect(espeakVoice("Polly.Matthew", "en-US", KNOWN)).toMatch(/^en-us\+m[1-7]$/);
    expect(espeakVoice("Polly.Joanna-Neural", "en-US", KNOWN)).toMatch(/^en-us\+f[1-5]$/);
    // Polly.Hans speaks German whatever the language attribute says.
    expect(espeakVoice("Polly.Hans", "en-US", KNOWN)).toMatch(/^de\+m[1-7]$/);
    expect(espeakVoice("Polly.Lupe", "es-MX", KNOWN)).toMatch(/^es-419\+f[1-5]$/);
    expect(espeakVoice("Google.en-GB-Standard-A", "en-US", KNOWN)).toMatch(/^en-gb\+f[1-5]$/);
    expect(espeakVoice("Google.cmn-CN-Wavenet-B", "en-US", KNOWN)).toMatch(/^cmn\+f[1-5]$/);
    // Two named voices of one gender need not sound the same; one voice always maps the same way.
    const names = ["Polly.Joanna", "Polly.Kendra", "Polly.Salli", "Polly.Ivy", "Polly.Ruth"];
    const variants = new Set(names.map((n) => espeakVoice(n, "en-US", KNOWN)));
    expect(variants.size).toBeGreaterThan(1);
    expect(espeakVoice("Polly.Ivy", "en-US", KNOWN)).toBe(espeakVoice("Polly.Ivy", "en-US", KNOWN));
  });

  it("finds the installed espeak-ng voices", async () => {
    expect(await new Espeak().voiceFor("man", "en-GB")).toBe("en-gb+m3");
  });
});

describe("engines", () => {
  it("parses --tts specs and refuses an unknown engine in one line", () => {
    expect(ttsEngineFrom(undefined)).toEqual({ kind: "espeak-ng" });
    expect(ttsEngineFrom("espeak-ng")).toEqual({ kind: "espeak-ng" });
    expect(ttsEngineFrom("command:/opt/tts --fast")).toEqual({
      kind: "command",
      program: "/opt/tts",
      args: ["--fast"],
    });
    expect(ttsEngineFrom("https://tts.example/speak")).toMatchObject({ kind: "http" });
    expect(() => ttsEngineFrom("polly")).toThrow(
      /^--tts: "polly" is not espeak-ng, command:PROGRAM or an http\(s\) URL$/,
    );
    expect(() => ttsEngineFrom("command:")).toThrow(/names no program/);
  });

  it("runs a command with the text on stdin and Twilio's voice and language in its environment", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-tts-"));
    const seen = join(dir, "seen");
    const program = await script(
      `cat > "${seen}"; printf '\\n%s %s' "$SB_TTS_VOICE" "$SB_TTS_LANGUAGE" >> "${seen}"\nsox -n -r 16000 -c 1 -b 16 -t wav - synth 0.5 sine 700`,
    );
    const synth = synthesiserFrom(ttsEngineFrom(`command:${program}`), web());
    expect(synth).toBeInstanceOf(CommandSynthesiser);
    const pcm = await synth.synthesise({ text: "Bonjour à tous", voice: "Polly.Celine", language: "fr-FR" });
    expect(await readFile(seen, "utf8")).toBe("Bonjour à tous\nPolly.Celine fr-FR");
    // Resampled to 8 kHz: half a second, and the engine's tone.
    expect(pcm.length).toBe(4000);
    expect(powerAt(pcm, 700)).toBeGreaterThan(100 * powerAt(pcm, 1000));
  });

  it("takes a command's output without a header as 8 kHz 16-bit PCM", async () => {
    const program = await script("sox -n -r 8000 -c 1 -b 16 -e signed -L -t raw - synth 0.25 sine 500");
    const pcm = await new CommandSynthesiser(program, []).synthesise({
      text: "x",
      voice: "man",
      language: "en-US",
    });
    expect(pcm.length).toBe(2000);
    expect(powerAt(pcm, 500)).toBeGreaterThan(100 * powerAt(pcm, 800));
  });

  it("fails with 90011 when the command exits non-zero, prints nothing, is missing or hangs", async () => {
    const p: Prompt = { text: "x", voice: "man", language: "en-US" };
    const failing = await script("echo 'no voice for that' >&2; exit 3");
    await expect(new CommandSynthesiser(failing, []).synthesise(p)).rejects.toMatchObject({
      code: 90011,
      message: expect.stringContaining("exited 3: no voice for that"),
    });
    const silent = await script("cat > /dev/null");
    await expect(new CommandSynthesiser(silent, []).synthesise(p)).rejects.toMatchObject({ code: 90011 });
    await expect(new CommandSynthesiser("/nonexistent/tts", []).synthesise(p)).rejects.toMatchObject({
      code: 90011,
    });
    // One that hangs is killed at its time limit.
    const hanging = await script("exec sleep 30");
    const started = performance.now();
    await expect(new CommandSynthesiser(hanging, [], 300).synthesise(p)).rejects.toMatchObject({
      code: 90011,
      message: expect.stringContaining("took over 300 ms"),
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("POSTs {text, voice, language} to an HTTP engine and decodes its WAV", async () => {
    const bodies: unknown[] = [];
    const url = await server((req, body) => {
      bodies.push({ type: req.headers["content-type"], body: JSON.parse(body) });
      return [200, { "content-type": "audio/wav" }, tone(900)];
    });
    const synth = synthesiserFrom(ttsEngineFrom(url), web());
    expect(synth).toBeInstanceOf(HttpSynthesiser);
    const pcm = await synth.synthesise({ text: "Hello", voice: "Polly.Amy", language: "en-GB" });
    expect(bodies).toEqual([
      { type: "application/json", body: { text: "Hello", voice: "Polly.Amy", language: "en-GB" } },
    ]);
    expect(pcm.length).toBe(4000);
    expect(powerAt(pcm, 900)).toBeGreaterThan(100 * powerAt(pcm, 600));
  });

  it("fails with 90011 on an HTTP error, an answer that is not audio, or a host the egress policy refuses", async () => {
    const p: Prompt = { text: "x", voice: "man", language: "en-US" };
    const failing = await server(() => [500, {}, new TextEncoder().encode("boom")]);
    await expect(new HttpSynthesiser(new URL(failing), web()).synthesise(p)).rejects.toMatchObject({
      code: 90011,
      message: expect.stringContaining("answered 500"),
    });
    const html = await server(() => [
      200,
      { "content-type": "text/html" },
      new TextEncoder().encode("<p>hi</p>"),
    ]);
    await expect(new HttpSynthesiser(new URL(html), web()).synthesise(p)).rejects.toMatchObject({
      code: 90011,
      message: expect.stringContaining("not audio"),
    });
    // Loopback is internal: refused unless the operator allows it (--allow-egress), as <Play> is.
    const ok = await server(() => [200, { "content-type": "audio/wav" }, tone(900)]);
    await expect(
      new HttpSynthesiser(new URL(ok), web(EgressPolicy.internalDenied())).synthesise(p),
    ).rejects.toMatchObject({ code: 90011 });
    const allowed = web(EgressPolicy.internalDenied(["127.0.0.0/8"]));
    expect((await new HttpSynthesiser(new URL(ok), allowed).synthesise(p)).length).toBe(4000);
  });
});

describe("the prompt cache", () => {
  it("synthesises a prompt once per (text, voice, language) and tries a failed one again", async () => {
    const asked: Prompt[] = [];
    let failNext = false;
    const engine: Synthesiser = {
      synthesise: async (p) => {
        asked.push(p);
        if (failNext) {
          failNext = false;
          throw new Error("engine down");
        }
        return new Int16Array(80).fill(asked.length);
      },
    };
    const prompts = new Prompts(engine);
    const [a, b] = await Promise.all([prompts.say("Hi", "man", "en-US"), prompts.say("Hi", "man", "en-US")]);
    expect(b).toBe(a);
    await prompts.say("Hi", "man", "en-GB");
    await prompts.say("Hi", "woman", "en-US");
    expect(await prompts.say("Hi", "man", "en-US")).toBe(a);
    expect(asked).toHaveLength(3);
    failNext = true;
    await expect(prompts.say("Bye", "man", "en-US")).rejects.toThrow("engine down");
    expect((await prompts.say("Bye", "man", "en-US")).length).toBe(80);
    expect(asked).toHaveLength(5);
  });
});
