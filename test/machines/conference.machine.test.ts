// The conference lifecycle: init -> in-progress -> completed, as Twilio moves a conference.
import { describe, expect, it } from "vitest";
import { nextConferenceStatus } from "../../machines/conference.machine.js";

describe("the conference lifecycle", () => {
  it("starts when a startConferenceOnEnter participant joins, not before", () => {
    expect(nextConferenceStatus("init", { type: "participant.joined", starts: false })).toBe("init");
    expect(nextConferenceStatus("init", { type: "participant.joined", starts: true })).toBe("in-progress");
    expect(nextConferenceStatus("in-progress", { type: "participant.joined", starts: true })).toBe(
      "in-progress",
    );
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
    expect(nextConferenceStatus("completed", { type: "participant.joined", starts: true })).toBe("completed");
  });
});
