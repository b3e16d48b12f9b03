// `switchboard trace <CallSid>`: the call's timeline as the visualizer shows it, from the stored
// inspection events; `--follow` keeps printing while the call runs.
import type { Command } from "commander";
import { callMachine } from "../../machines/call.machine.js";
import { fail } from "../errors/switchboard-error.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { formatEntry, formatHeader, formatTimeline } from "../visualizer/format.js";
import {
  findCallRegion,
  type HistoryRecord,
  readCallHistory,
  readLiveEdge,
  sortRecords,
} from "../visualizer/history.js";
import { discoverRegions } from "../visualizer/regions.js";
import { statechartOf } from "../visualizer/statechart.js";
import { toStatelyMessages } from "../visualizer/stately.js";
import { StepResolver } from "../visualizer/steps.js";
import { buildCallView } from "../visualizer/timeline.js";
import { action, natsOption } from "./options.js";

interface TraceOptions {
  follow?: boolean;
  json?: boolean;
  stately?: boolean;
  nats?: string;
}

// A state change and the command its entry sent arrive together: print once they have settled.
const SETTLE_MS = 50;

export function registerTraceCommand(program: Command): void {
  program
    .command("trace")
    .description("print a call's timeline: states, webhooks, channel commands, errors")
    .argument("<CallSid>", "the call, CA…")
    .option("--follow", "keep printing while the call runs")
    .option("--json", "print the call's history as JSON (what the visualizer exports)")
    .option("--stately", "print the history as @statelyai/inspect messages")
    .addOption(natsOption())
    .action(
      action(async (callSid: string, o: TraceOptions) => {
        if (!/^CA[0-9a-f]{32}$/.test(callSid))
          throw fail("invalidPayload", "a CallSid is CA and 32 hex digits");
        const nc = await connectNats(natsUrl(o.nats), "switchboard-trace", 5_000);
        try {
          const regions = await discoverRegions(nc);
          const region = await findCallRegion(nc, callSid, regions);
          if (!region) {
            throw fail(
              "notFound",
              `no inspection events for ${callSid} in ${regions.join(", ") || "any region"}`,
            );
          }
          const resolver = new StepResolver(statechartOf(callMachine));
          const abort = new AbortController();
          const arrived: HistoryRecord[] = [];
          let wake: (() => void) | undefined;
          const history = await readCallHistory(nc, region, callSid, {
            signal: abort.signal,
            ...(o.follow && {
              follow: (r) => {
                arrived.push(r);
                wake?.();
              },
            }),
          });
          const edge = await readLiveEdge(nc, region, callSid);
          let view = { ...buildCallView(history, resolver), edge };
          const out = (line: string): void => {
            process.stdout.write(`${line}\n`);
          };
          if (o.json) return out(JSON.stringify({ ...history, view }, null, 2));
          if (o.stately) return out(JSON.stringify(toStatelyMessages(view, callMachine), null, 2));
          if (!o.follow || !view.live) {
            for (const line of formatTimeline(view)) out(line);
            return;
          }

          out(formatHeader(view));
          let printed = 0;
          const flush = () => {
            for (const e of view.entries.slice(printed)) out(formatEntry(view, e));
            printed = view.entries.length;
          };
          flush();
          while (view.live) {
            await new Promise<void>((resolve) => {
              wake = () => setTimeout(resolve, SETTLE_MS);
            });
            history.records = sortRecords([...history.records, ...arrived.splice(0)]);
            view = { ...buildCallView(history, resolver), edge };
            flush();
          }
          abort.abort();
          out(formatHeader(view));
        } finally {
          await nc.close();
        }
      }),
    );
}
