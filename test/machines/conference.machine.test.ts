// The conference lifecycle: init -> in-progress -> completed, as Twilio moves a conference.
import { describe, expect, it } from "vitest";
import { nextConferenceStatus } from "../../machines/conference.machine.js";

describe("the conference lifecycle", () => {
  it("starts once a second participant joins and someone in it has startConferenceOnEnter, not before", () => {
    const joined = (starts: boolean, present: number) => ({
      type: "participant.joined" as const,
      starts,
      present,
    });
    // Alone, even a startConferenceOnEnter participant waits with the hold music (Twilio's lifecycle).
    expect(nextConferenceStatus("init", joined(true, 1))).toBe("init");
    expect(nextConferenceStatus("init", joined(false, 2))).toBe("init");
    expect(nextConferenceStatus("init", joined(true, 2))).toBe("in-progress");
    expect(nextConferenceStatus("in-progress", joined(true, 3))).toBe("in-progress");
  });

  it("ends when an endConferenceOnExit participant or the last one leaves, or on REST", () => {
    expect(nextConferenceStatus("in-progress", { type: "participant.left", ends: false, remaining: 2 })).toBe(
      "in-progress",
    );
    expect(nextConferenceStatus("in-progress", { type: "participant.left", ends: true, remaining: 2 })).toBe(
      "completed",
    );
    expect(nextConferenceStatus("init", { type: "participant.left", ends: false, remaining: 0 })).toBe(
      "completed",
    );
    expect(nextConferenceStatus("in-progress", { type: "conference.end" })).toBe("completed");
  });

  it("stays completed: a completed conference is never joined again", () => {
    expect(nextConferenceStatus("completed", { type: "participant.joined", starts: true, present: 2 })).toBe(
      "completed",
    );
  });
});
