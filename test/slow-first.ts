// The order vitest runs the test files in: the slowest first, then the rest as vitest orders them.
// Three files run at a time (vitest.config.ts); on a fresh clone vitest has no timings cached and
// starts the largest files first, so a long file drawn last (chaos.test.ts, 43 s) ran alone at the
// end while the other slots idled. Longest first keeps every slot busy to the end. The seconds are
// from a CI run of 2026-12-06; a stale list only changes the order, never what runs.
import { BaseSequencer, type TestSpecification } from "vitest/node";

const SLOWEST = [
  "test/region/resume.test.ts", // 93 s
  "test/sip/conference-audio.test.ts", // 82 s
  "test/sip/room-resume.test.ts", // 54 s (with the queue bridge's cases)
  "test/sip/dial-resume.test.ts", // 51 s
  "test/sip/dial-bridge.test.ts", // 49 s
  "test/region/chaos.test.ts", // 43 s
  "test/sip/bridge.test.ts", // 38 s
  "test/sip/stream-resume.test.ts", // 38 s
  "test/sip/speech.test.ts", // 33 s
  "test/sip/media-streams.test.ts", // 32 s
  "test/region/queue-resume.test.ts", // 25 s
  "test/sip/outbound-recording.test.ts", // 23 s
  "test/sip/record-resume.test.ts", // 22 s
  "test/region/outbound.test.ts", // 22 s
  "test/cli/trunks.test.ts", // 19 s
  "test/sip/cli.test.ts", // 18 s
  "test/cli/up.test.ts", // 16 s
  "test/region/stalled-worker.test.ts", // 16 s
  "test/region/drain.test.ts", // 15 s
];

export class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.findIndex((path) => f.moduleId.endsWith(path));
      return i < 0 ? SLOWEST.length : i;
    };
    const sorted = await super.sort(files);
    // Array.prototype.sort is stable: the files outside the list keep vitest's own order.
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
