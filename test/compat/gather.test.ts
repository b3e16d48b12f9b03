// <Gather> as a Twilio app sees it: the action request's exact parameters for keys and speech, its
// default (the document's own URL) and GET, finishOnKey and numDigits, the fall-through on silence,
// actionOnEmptyResult, the nested prompts and barge-in. Real nats-server, edge, worker and app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../src/protocol/codec.js";
import { subjects } from "../../src/protocol/subjects.js";
import { speechDurationMs } from "../../src/region/channel/simulated-channel.js";
import { type Compat, keys, raw, STANDARD, sortedKeys, startCompat } from "./harness.js";

let compat: Compat;

beforeAll(async () => {
  compat = await startCompat(1_241_000);
}, 60_000);

afterAll(async () => {
  await compat?.[Symbol.asyncDispose]();
});

const seconds = (ms: number) => String(Math.round(ms / 1000));

describe("<Gather> with keys", () => {
  it("posts Digits, without the finishing #, to the document's own URL when there is no action", async () => {
    const s = await compat.scenario("gather-default", {
      "/voice": (r, req) => {
        if (req.params.Digits !== undefined) {
          r.say(`You entered ${req.params.Digits}`);
          return;
        }
        r.gather().say("Enter your account number, then press pound.");
        r.say("Not reached");
      },
    });
    const run = await s.call({ digits: ["1234#"] });
    expect(run.said).toEqual(["Enter your account number, then press pound.", "You entered 1234"]);
    const [first, action] = run.requests();
    expect(first?.params.CallStatus).toBe("ringing");
    expect(action).toMatchObject({ method: "POST", path: "/gather-default/voice", signatureValid: true });
    expect(keys(action?.params ?? {})).toEqual(sortedKeys(STANDARD, ["Digits"]));
    expect(action?.params).toMatchObject({
      CallSid: run.callSid,
      AccountSid: compat.engine.accountSid,
      CallStatus: "in-progress",
      Direction: "inbound",
      Digits: "1234",
    });
    expect(run.placed.call.status).toBe("completed");
  });

  it("requests the action with GET, the parameters on the query string", async () => {
    const s = await compat.scenario("gather-get", {
      "/voice": (r) => {
        r.gather({ action: "menu?lang=en", method: "GET", numDigits: 1 }).say("Press a key");
      },
      "/menu": (r) => r.hangup(),
    });
    const run = await s.call({ digits: ["7"] });
    const action = await run.of("/menu");
    expect(action.method).toBe("GET");
    expect(action.signatureValid).toBe(true);
    // The action's own query parameters are kept, the call's are added.
    expect(keys(action.params)).toEqual(sortedKeys(STANDARD, ["Digits", "lang"]));
    expect(action.params).toMatchObject({ Digits: "7", lang: "en", CallStatus: "in-progress" });
  });

  it("takes a GET document's URL without the call's parameters as its default action", async () => {
    const s = await compat.scenario(
      "gather-get-loop",
      {
        "/voice": (r, req) => {
          if (req.params.Digits === "2") return void r.hangup();
          r.gather({ numDigits: 1, method: "GET" }).say(`Round ${req.params.Digits ?? 0}`);
        },
      },
      { voiceMethod: "GET" },
    );
    const run = await s.call({ digits: ["1", "2"] });
    const rounds = run.requests().filter((r) => r.path === "/gather-get-loop/voice");
    expect(rounds.map((r) => [r.method, r.params.CallStatus, r.params.Digits])).toEqual([
      ["GET", "ringing", undefined],
      ["GET", "in-progress", "1"],
      ["GET", "in-progress", "2"],
    ]);
    // Each request names each parameter once: the parameters sent with one request are not part of
    // the document URL the next one goes to.
    for (const r of rounds) {
      const names = [...new URLSearchParams(r.url.split("?")[1]).keys()];
      expect(names.sort()).toEqual(keys(r.params));
      expect(r.signatureValid).toBe(true);
    }
  });

  it("ends at numDigits without a finishing key, and ignores the keys after", async () => {
    const s = await compat.scenario("gather-numdigits", {
      "/voice": (r) => {
        r.gather({ action: "/gather-numdigits/done", numDigits: 3 });
      },
      "/done": (r) => r.hangup(),
    });
    const run = await s.call({ digits: ["12345"] });
    expect((await run.of("/done")).params.Digits).toBe("123");
  });

  it("ends on a custom finishOnKey, which is not part of Digits", async () => {
    const s = await compat.scenario("gather-star", {
      "/voice": (r) => {
        r.gather({ action: "done", finishOnKey: "*" });
      },
      "/done": (r) => r.hangup(),
    });
    const run = await s.call({ digits: ["9#8*"] });
    // '#' is an ordinary key once finishOnKey is '*'.
    expect((await run.of("/done")).params.Digits).toBe("9#8");
  });

  it("with finishOnKey='' waits for the timeout and sends every key", async () => {
    const s = await compat.scenario("gather-nofinish", {
      "/voice": (r) => {
        r.gather({ action: "done", finishOnKey: "", timeout: 2 });
      },
      "/done": (r) => r.hangup(),
    });
    const run = await s.call({ digits: ["12#"] });
    expect((await run.of("/done")).params.Digits).toBe("12#");
    // The caller starts a second after the prompts (none), 250 ms a key; then the 2 s timeout.
    expect(run.placed.call.duration).toBe(seconds(1000 + 2 * 250 + 2000));
  });
});

describe("<Gather> without input", () => {
  it("falls through to the next verb after the timeout, requesting nothing", async () => {
    const s = await compat.scenario("gather-silent", {
      "/voice": (r) => {
        r.gather({ action: "done", timeout: 3 }).say("Press a key");
        r.say("We did not receive any input. Goodbye.");
      },
      "/done": (r) => r.say("Not reached"),
    });
    const run = await s.call();
    expect(run.said).toEqual(["Press a key", "We did not receive any input. Goodbye."]);
    await run.of("/status");
    expect(run.requests().map((r) => r.path)).toEqual(["/gather-silent/voice", "/gather-silent/status"]);
    // The timeout runs after the prompt.
    expect(run.placed.call.duration).toBe(
      seconds(
        speechDurationMs("Press a key") + 3000 + speechDurationMs("We did not receive any input. Goodbye."),
      ),
    );
  });

  it("ignores finishOnKey pressed before any digit, as Twilio does: keys after it are still taken", async () => {
    const s = await compat.scenario("gather-only-pound", {
      "/voice": (r) => {
        r.gather({ action: "done", timeout: 2 });
        r.say("Fell through");
      },
      "/done": (r, req) => r.say(`You entered ${req.params.Digits}`),
    });
    const alone = await s.call({ digits: ["#"] });
    expect(alone.said).toEqual(["Fell through"]);
    const first = await s.call({ digits: ["#42#"] });
    expect((await first.of("/done")).params.Digits).toBe("42");
    expect(first.said).toEqual(["You entered 42"]);
  });

  it("requests the action with an empty Digits when actionOnEmptyResult is true", async () => {
    const s = await compat.scenario("gather-empty", {
      "/voice": (r) => {
        r.gather({ action: "done", actionOnEmptyResult: true, timeout: 1 });
        r.say("Not reached");
      },
      "/done": (r) => r.say("Action requested"),
    });
    const run = await s.call();
    const action = await run.of("/done");
    expect(keys(action.params)).toEqual(sortedKeys(STANDARD, ["Digits"]));
    expect(action.params.Digits).toBe("");
    expect(run.said).toEqual(["Action requested"]);
  });
});

describe("<Gather> ending otherwise", () => {
  it("requests nothing when the caller hangs up while it listens", async () => {
    const s = await compat.scenario("gather-hangup", {
      "/voice": (r) => {
        r.gather({ action: "done", timeout: 10 }).say("Press a key");
        r.say("Not reached");
      },
      "/done": (r) => r.say("Not reached"),
    });
    const run = await s.call({ hangupAfter: 3 });
    expect(run.said).toEqual(["Press a key"]);
    expect(run.placed.call).toMatchObject({ status: "completed", duration: "3" });
    await run.of("/status");
    expect(run.requests().map((r) => r.path)).toEqual(["/gather-hangup/voice", "/gather-hangup/status"]);
  });

  it("follows a 302 from the action with a GET that does not carry Digits again", async () => {
    const s = await compat.scenario("gather-moved", {
      "/voice": (r) => {
        r.gather({ action: "old", numDigits: 1 });
      },
      "/old": raw((req) => ({
        status: 302,
        contentType: "text/plain",
        body: "",
        headers: { Location: `new?from=${req.params.Digits}` },
      })),
      "/new": (r) => r.say("Moved"),
    });
    const run = await s.call({ digits: ["5"] });
    // It carries no call parameters at all, so it is found by its path.
    const moved = await compat.app.waitFor((r) => r.path === "/gather-moved/new", 5_000);
    expect(moved).toMatchObject({ method: "GET", signatureValid: true });
    expect(moved.params).toEqual({ from: "5" });
    expect(run.said).toEqual(["Moved"]);
  });
});

describe("<Gather> with speech", () => {
  it("posts SpeechResult and Confidence, and no Digits", async () => {
    const s = await compat.scenario("gather-speech", {
      "/voice": (r) => {
        r.gather({ input: ["speech"], action: "heard", speechTimeout: "auto" }).say("How can I help?");
      },
      "/heard": (r, req) => r.say(`You said ${req.params.SpeechResult}`),
    });
    const run = await s.call({ speech: ["I lost my card"] });
    const action = await run.of("/heard");
    expect(keys(action.params)).toEqual(sortedKeys(STANDARD, ["Confidence", "SpeechResult"]));
    expect(action.params.SpeechResult).toBe("I lost my card");
    expect(Number(action.params.Confidence)).toBeGreaterThan(0);
    expect(Number(action.params.Confidence)).toBeLessThanOrEqual(1);
    expect(run.said).toEqual(["How can I help?", "You said I lost my card"]);
  });

  it("takes an answer that starts within the timeout however long it takes to say", async () => {
    const s = await compat.scenario("gather-long-speech", {
      "/voice": (r) => {
        r.gather({ input: ["speech"], action: "heard", timeout: 2 }).say("How can I help?");
        r.say("We did not hear you");
      },
      "/heard": (r, req) => r.say(`You said ${req.params.SpeechResult}`),
    });
    const answer = "I would like to speak to somebody about my last bill";
    // The caller starts a second after the prompt and talks for longer than the 2 s timeout.
    expect(speechDurationMs(answer)).toBeGreaterThan(2000);
    const run = await s.call({ speech: [answer] });
    const action = await run.of("/heard");
    expect(action.params.SpeechResult).toBe(answer);
    expect(run.said).toEqual(["How can I help?", `You said ${answer}`]);
  });

  it('with input="dtmf speech" takes keys when the caller presses them, speech when the caller talks', async () => {
    const s = await compat.scenario("gather-both", {
      "/voice": (r) => {
        r.gather({ input: ["dtmf", "speech"], action: "heard", numDigits: 1 }).say("Say or press one");
      },
      "/heard": (r) => r.hangup(),
    });
    const keysRun = await s.call({ digits: ["1"] });
    const byKey = await keysRun.of("/heard");
    expect(keys(byKey.params)).toEqual(sortedKeys(STANDARD, ["Digits"]));
    expect(byKey.params.Digits).toBe("1");

    const speechRun = await s.call({ speech: ["sales"] });
    const bySpeech = await speechRun.of("/heard");
    expect(keys(bySpeech.params)).toEqual(sortedKeys(STANDARD, ["Confidence", "SpeechResult"]));
    expect(bySpeech.params.SpeechResult).toBe("sales");
  });
});

describe("<Gather> prompts", () => {
  it("plays nested Say, Play and Pause in order while listening", async () => {
    const s = await compat.scenario("gather-prompts", {
      "/voice": (r) => {
        const g = r.gather({ action: "done", timeout: 1 });
        g.say("Welcome");
        g.pause({ length: 2 });
        g.play({ digits: undefined }, "https://cdn.invalid/none.mp3");
        g.say("Choose");
      },
      "/done": (r) => r.hangup(),
    });
    const run = await s.call();
    expect(
      run.events.flatMap((e) =>
        e.kind === "say"
          ? [e.text]
          : e.kind === "pause"
            ? [`pause ${e.length}`]
            : e.kind === "play"
              ? ["play"]
              : [],
      ),
    ).toEqual(["Welcome", "pause 2", "play", "Choose"]);
    // The media host does not resolve: the prompt is an error, the rest of the Gather goes on.
    const [note] = await run.notifications(1);
    expect(note).toMatchObject({ error_code: "11200", log: "0" });
  });

  it("stops the prompts at the caller's first key (barge-in)", async () => {
    const s = await compat.scenario("gather-barge", {
      "/voice": (r) => {
        const g = r.gather({ action: "done", numDigits: 1 });
        g.say("This first prompt is long enough for the caller to press a key while it plays.");
        g.pause({ length: 5 });
        g.say("Never heard");
      },
      "/done": (r, req) => r.say(`Pressed ${req.params.Digits}`),
    });
    const run = await s.call(
      // Real time: the key arrives on `.in` while the first prompt is playing.
      { timeScale: 1 },
      {
        onEvent: (event, callSid) => {
          if (event.kind === "say" && event.text.startsWith("This first prompt")) {
            compat.engine.nc.publish(
              subjects().callIn("us1", callSid),
              encode({ kind: "digits", digits: "4" }),
            );
          }
        },
      },
    );
    expect(run.said).toEqual([
      "This first prompt is long enough for the caller to press a key while it plays.",
      "Pressed 4",
    ]);
    expect(run.events.some((e) => e.kind === "pause")).toBe(false);
  });
});
