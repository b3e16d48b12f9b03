// What the tests of a region worker dying mid SIP call share: a watch on the call's channel events and
// the region's `resumed` inspections (the workers themselves: test/helpers/region-worker.ts).
import type { NatsConnection } from "@nats-io/transport-node";
import type { ChannelOut } from "../../src/protocol/channel-events.js";
import { decode } from "../../src/protocol/codec.js";
import { inspectEnvelopes } from "../../src/protocol/inspect.js";

export interface CallWatch {
  /** The texts of the `say` events, in order. */
  readonly said: string[];
  /** The first `pause`: where the test kills the worker. */
  readonly inPause: Promise<void>;
  /** The `ended` event: the Call resource is stored. */
  readonly ended: Promise<void>;
  /** How many calls a worker has resumed. */
  resumed(): number;
  /** The first `resumed` inspection (batched: it may come after a quick call's `ended`). */
  readonly firstResume: Promise<void>;
  stop(): void;
}

/** Watches the us1 calls' channel events and resumes. */
export function watchCall(nc: NatsConnection): CallWatch {
  const said: string[] = [];
  let paused!: () => void;
  const inPause = new Promise<void>((resolve) => {
    paused = resolve;
  });
  let stored!: () => void;
  const ended = new Promise<void>((resolve) => {
    stored = resolve;
  });
  const out = nc.subscribe("sb.region.us1.call.*.out", {
    callback: (_, msg) => {
      const e = decode(msg.data) as ChannelOut;
      if (e.kind === "say") said.push(e.text);
      if (e.kind === "pause") paused();
      if (e.kind === "ended") stored();
    },
  });
  let resumed = 0;
  let resumedOnce!: () => void;
  const firstResume = new Promise<void>((resolve) => {
    resumedOnce = resolve;
  });
  const inspect = nc.subscribe("sb.region.us1.inspect.*", {
    callback: (_, msg) => {
      for (const e of inspectEnvelopes(msg.data))
        if (e.type === "resumed") {
          resumed++;
          resumedOnce();
        }
    },
  });
  return {
    said,
    inPause,
    ended,
    resumed: () => resumed,
    firstResume,
    stop: () => {
      out.unsubscribe();
      inspect.unsubscribe();
    },
  };
}
