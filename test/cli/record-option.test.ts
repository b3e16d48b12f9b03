// `switchboard call --record TEXT[:SECONDS][@KEY]`: what the simulated caller says to each <Record>.
import { describe, expect, it } from "vitest";
import { parseRecording } from "../../src/cli/call.js";
import { CallerScriptSchema } from "../../src/protocol/offer.js";

describe("--record", () => {
  it("reads text, seconds and the key that ends the recording, each optional", () => {
    expect(parseRecording("call me back:4.5@#")).toEqual({ text: "call me back", seconds: 4.5, key: "#" });
    expect(parseRecording("call me back")).toEqual({ text: "call me back" });
    expect(parseRecording("at 10:30 please:3")).toEqual({ text: "at 10:30 please", seconds: 3 });
    expect(parseRecording(":7")).toEqual({ seconds: 7 });
    expect(parseRecording("email me@home")).toEqual({ text: "email me@home" });
  });

  it("gives what the offer's caller script accepts", () => {
    const recordings = ["hello:2@1", "bye"].map(parseRecording);
    expect(CallerScriptSchema.parse({ recordings })).toEqual({ recordings });
  });
});
