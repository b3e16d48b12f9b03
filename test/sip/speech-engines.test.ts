// The gateway's speech parts on their own (issue #18): pocketsphinx on a real espeak-ng utterance that
// went through μ-law, the command and HTTP recognisers against a real program and a real server, the
// language fallback, and the voice activity detection that decides when an utterance starts and ends.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ChannelIn } from "../../src/protocol/channel-events.js";
import { decodeG711, encodeG711 } from "../../src/sip/rtp/g711.js";
import { CommandRecogniser, HttpRecogniser, recogniserFrom } from "../../src/sip/speech/engines.js";
import { SpeechListening } from "../../src/sip/speech/listening.js";
import { Pocketsphinx, readOutput } from "../../src/sip/speech/pocketsphinx.js";
import { languageFor, type Recogniser, type Utterance } from "../../src/sip/speech/recogniser.js";

const exec = promisify(execFile);

/** `words` spoken by espeak-ng, at 8 kHz, through μ-law and back: what the gateway hears from a phone. */
async function phoneSpeech(words: string): Promise<Int16Array> {
  const { stdout } = await exec(
    "sh",
    [
      "-c",
      'espeak-ng -v en-us -s 140 --stdout "$1" | sox -t wav - -t raw -r 8000 -c 1 -e signed -b 16 -L -',
      "sh",
      words,
    ],
    { encoding: "buffer" },
  );
  const pcm = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
  return decodeG711("PCMU", encodeG711("PCMU", pcm));
}

describe("pocketsphinx", () => {
  it("reads a hinted phrase right from telephone audio, and gives the open model's posterior without hints", {
    timeout: 20_000,
  }, async () => {
    const ps = new Pocketsphinx();
    const pcm = await phoneSpeech("two three four");
    const hinted = await ps.recognise({ pcm, hints: ["yes", "no", "two three four"], language: "en-us" });
    expect(hinted).toEqual({ text: "two three four" });
    const open = await ps.recognise({ pcm, hints: [], language: "en-us" });
    expect(open.confidence).toBeGreaterThanOrEqual(0);
    expect(open.confidence).toBeLessThanOrEqual(1);
    // A hint whose words the dictionary lacks is dropped, not a grammar that fails to load.
    const unknown = await ps.recognise({ pcm, hints: ["zzqxv"], language: "en-us" });
    expect(unknown.text).toBe(open.text);
  });

  it("reads -time output: the text lines, and the mean posterior of the words (not fillers)", () => {
    const out = "legal\n<s> 0.000 0.270 0.999800\nlegal 0.280 0.810 0.183582\n</s> 0.820 1.080 1.000000\n";
    expect(readOutput(out, false)).toEqual({ text: "legal", confidence: 0.183582 });
    expect(readOutput("two three\ntwo 0.0 0.2 1.0\nthree 0.2 0.4 1.0\n", true)).toEqual({
      text: "two three",
    });
    expect(readOutput("", false)).toEqual({ text: "" });
  });
});

describe("other engines", () => {
  const utterance: Utterance = {
    pcm: new Int16Array(800).fill(1000),
    hints: ["sales", "support"],
    language: "en-gb",
  };

  it("runs a command with the WAV on stdin and the hints and language in its environment", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-rec-"));
    const program = join(dir, "rec.sh");
    await writeFile(
      program,
      '#!/bin/sh\nbytes=$(wc -c)\nprintf "%s %s %s\\t0.75\\n" "$bytes" "$SB_SPEECH_HINTS" "$SB_SPEECH_LANGUAGE"\n',
    );
    await chmod(program, 0o755);
    const r = recogniserFrom(`command:${program}`);
    expect(r).toBeInstanceOf(CommandRecogniser);
    expect(await r.recognise(utterance)).toEqual({ text: "1644 sales,support en-gb", confidence: 0.75 });
  });

  it("POSTs the WAV to an HTTP recogniser and reads its JSON; a bad answer is an error", async () => {
    let seen = { type: "", bytes: 0, query: "" };
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        seen = {
          type: req.headers["content-type"] ?? "",
          bytes: Buffer.concat(parts).length,
          query: req.url ?? "",
        };
        res.setHeader("content-type", "application/json");
        res.end(req.url?.startsWith("/bad") ? '{"words":1}' : '{"text":" support ","confidence":0.5}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const r = recogniserFrom(`http://127.0.0.1:${port}/asr`);
      expect(r).toBeInstanceOf(HttpRecogniser);
      expect(await r.recognise(utterance)).toEqual({ text: "support", confidence: 0.5 });
      expect(seen).toEqual({
        type: "audio/wav",
        bytes: 1644,
        query: "/asr?language=en-gb&hints=sales%2Csupport",
      });
      await expect(recogniserFrom(`http://127.0.0.1:${port}/bad`).recognise(utterance)).rejects.toThrow(
        /text/,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("refuses an engine it does not know", () => {
    expect(() => recogniserFrom("vosk")).toThrow(/pocketsphinx, command:PROGRAM or an http/);
    expect(() => recogniserFrom("command:")).toThrow(/names no program/);
  });

  it("falls back to the recogniser's language with Twilio's warning 13331", () => {
    const ps = new Pocketsphinx();
    expect(languageFor(ps, "en-US")).toEqual({ language: "en-US" });
    const fr = languageFor(ps, "fr-FR");
    expect(fr.language).toBe("en-us");
    expect(fr.warning?.code).toBe(13331);
    expect(languageFor(recogniserFrom("http://127.0.0.1:9/"), "fr-FR")).toEqual({ language: "fr-FR" });
  });
});

describe("voice activity detection", () => {
  const frame = (amplitude: number) =>
    Int16Array.from({ length: 160 }, (_, i) =>
      Math.round(amplitude * Math.sin((2 * Math.PI * 300 * i) / 8000)),
    );

  /** Listens with a recogniser that reports what it was given; resolves with the events sent. */
  function listen(speechTimeoutMs: number | "auto") {
    const heard: Utterance[] = [];
    const events: ChannelIn[] = [];
    let done!: () => void;
    const over = new Promise<void>((r) => {
      done = r;
    });
    const recogniser: Recogniser = {
      recognise: async (u) => {
        heard.push(u);
        return { text: u.pcm.length > 0 ? "words" : "" };
      },
    };
    const l = new SpeechListening(
      { speechTimeoutMs, hints: [], language: "en-US", partial: false },
      recogniser,
      (e) => events.push(e),
      pino({ level: "silent" }),
      done,
    );
    return { l, heard, events, over };
  }

  it("ignores quiet and a click, starts on speech, ends after the silence, and sends the utterance", async () => {
    const { l, heard, events, over } = listen(300);
    for (let i = 0; i < 50; i++) l.audio(frame(100)); // line noise
    l.audio(frame(5000));
    l.audio(frame(5000)); // a 40 ms click
    l.audio(frame(100));
    expect(events).toEqual([]);
    for (let i = 0; i < 25; i++) l.audio(frame(5000)); // half a second of speech
    expect(events).toEqual([{ kind: "speechStarted" }]);
    const ended = performance.now();
    await over;
    expect(performance.now() - ended).toBeGreaterThanOrEqual(290);
    expect(events).toEqual([{ kind: "speechStarted" }, { kind: "speech", text: "words" }]);
    // The speech, and 300 ms up to the frame that started it (its first 60 ms are among them).
    expect(heard[0]?.pcm.length).toBe((25 + 12) * 160);
  });

  it("sends nothing once stopped (the Gather ended on a key or its timeout)", async () => {
    const { l, events } = listen("auto");
    for (let i = 0; i < 5; i++) l.audio(frame(5000));
    l.stop();
    await new Promise((r) => setTimeout(r, 1_100));
    expect(events).toEqual([{ kind: "speechStarted" }]);
  });
});
