// The caller script `switchboard call` builds from --script and its flags.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mergeCallerScript, parseCallee, readCallerScript } from "../../src/caller/caller-script.js";

describe("--callee TARGET=OUTCOME", () => {
  it("reads the outcome with optional answerAfter and talk seconds", () => {
    expect(parseCallee("+15551230000=answer:3:20")).toEqual([
      "+15551230000",
      { outcome: "answer", answerAfter: 3, talk: 20 },
    ]);
    expect(parseCallee("client:alice=no-answer")).toEqual(["client:alice", { outcome: "no-answer" }]);
    expect(parseCallee("+15551230000=answer::9")).toEqual(["+15551230000", { outcome: "answer", talk: 9 }]);
  });

  it("splits at the last = so SIP URIs may hold parameters", () => {
    expect(parseCallee("sip:bob@example.com;transport=tls=busy")).toEqual([
      "sip:bob@example.com;transport=tls",
      { outcome: "busy" },
    ]);
  });

  it("refuses an unknown outcome, a missing target or a bad number with 20422", () => {
    for (const bad of ["+15551230000=ringing", "=answer", "+15551230000", "+15551230000=answer:soon"]) {
      expect(() => parseCallee(bad)).toThrow(expect.objectContaining({ code: 20422 }));
    }
  });
});

describe("--script FILE", () => {
  it("merges the file with the flags: flags replace fields, callees merge by target", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-script-"));
    const file = join(dir, "caller.json");
    await writeFile(
      file,
      JSON.stringify({
        digits: ["1"],
        hangupAfter: 60,
        starAfter: [4],
        callees: { "+15551230000": { outcome: "busy" }, "sip:bob@x": { outcome: "answer", talk: 5 } },
      }),
    );
    const merged = mergeCallerScript(await readCallerScript(file), {
      digits: ["2#"],
      timeScale: 0,
      callees: { "+15551230000": { outcome: "answer", answerAfter: 2 } },
    });
    expect(merged).toEqual({
      digits: ["2#"],
      hangupAfter: 60,
      starAfter: [4],
      timeScale: 0,
      callees: {
        "+15551230000": { outcome: "answer", answerAfter: 2 },
        "sip:bob@x": { outcome: "answer", talk: 5 },
      },
    });
  });

  it("names the file and the field when the script is not a caller script", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-script-"));
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ callees: { x: { outcome: "maybe" } } }));
    await expect(readCallerScript(file)).rejects.toThrow(/bad\.json: callees\.x\.outcome/);
    await writeFile(file, "{not json");
    await expect(readCallerScript(file)).rejects.toThrow(/bad\.json/);
  });
});
