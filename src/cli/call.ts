// `switchboard call`: place a simulated inbound call, play the caller, print each step.
import { type Command, Option } from "commander";
import { mergeCallerScript, parseCallee, readCallerScript } from "../caller/caller-script.js";
import { describeProgress } from "../caller/describe-progress.js";
import { placeCall } from "../caller/place-call.js";
import { connectNats, natsUrl } from "../protocol/connect.js";
import { action, collect, geoOption, natsOption, parseName, parseNumber } from "./options.js";
import { EXIT } from "./program.js";

interface CallOptions {
  to: string;
  from: string;
  edge: string;
  digits: string[];
  speech: string[];
  record: string[];
  hangupAfter?: number;
  callee: string[];
  script?: string;
  timeScale: number;
  geo: Record<string, string>;
  json?: boolean;
  timeout: number;
  nats?: string;
}

export function registerCallCommand(program: Command): void {
  program
    .command("call")
    .description(
      "place a simulated inbound call and play the caller; exits 0 when it ended completed without an error, else 1",
    )
    .requiredOption("--to <number>", "the called number (E.164)")
    .requiredOption("--from <number>", "the caller's number (E.164)")
    .addOption(
      new Option("--edge <name>", "the edge the call enters at").argParser(parseName).default("ashburn"),
    )
    .option("--digits <keys>", "keys that answer the next <Gather> (repeat for each)", collect, [])
    .option("--speech <text>", "speech that answers the next <Gather> (repeat for each)", collect, [])
    .option(
      "--record <text[:seconds][@key]>",
      "what the caller says to the next <Record>, for how long, then the key pressed (repeat for each)",
      collect,
      [],
    )
    .addOption(
      new Option("--hangup-after <seconds>", "the caller hangs up this long after the answer").argParser(
        parseNumber(0.001, 86_400),
      ),
    )
    .option(
      "--callee <target=outcome>",
      "how a party a <Dial> rings answers: TARGET=answer|busy|no-answer|failed[:answerAfter[:talk]] (repeat)",
      collect,
      [],
    )
    .option(
      "--script <file>",
      "a JSON caller script (digits, speech, recordings, hangupAfter, callees, starAfter); flags win",
    )
    .addOption(
      new Option("--time-scale <s>", "0 runs without waiting, 1 is real time")
        .argParser(parseNumber(0, 1))
        .default(0),
    )
    .addOption(
      new Option("--timeout <seconds>", "give up waiting after this long")
        .argParser(parseNumber(1, 86_400))
        .default(120),
    )
    .addOption(geoOption())
    .option("--json", "print only the final Call resource, as JSON")
    .addOption(natsOption())
    .action(
      action(async (o: CallOptions, cmd: Command) => {
        const file = o.script === undefined ? undefined : await readCallerScript(o.script);
        // The script's timeScale stands unless --time-scale was given (its default is 0).
        const timeScale =
          cmd.getOptionValueSource("timeScale") === "default" && file?.timeScale !== undefined
            ? file.timeScale
            : o.timeScale;
        const caller = mergeCallerScript(file, {
          ...(o.digits.length && { digits: o.digits }),
          ...(o.speech.length && { speech: o.speech }),
          ...(o.record.length && { recordings: o.record.map(parseRecording) }),
          ...(o.hangupAfter !== undefined && { hangupAfter: o.hangupAfter }),
          ...(o.callee.length && { callees: Object.fromEntries(o.callee.map(parseCallee)) }),
          timeScale,
        });
        const nc = await connectNats(natsUrl(o.nats), "switchboard-call", 5_000);
        const started = Date.now();
        const print = (line: string) => {
          const t = ((Date.now() - started) / 1000).toFixed(3).padStart(7);
          process.stdout.write(`${t}  ${line}\n`);
        };
        try {
          const placed = await placeCall(nc, {
            to: o.to,
            from: o.from,
            edge: o.edge,
            caller,
            ...(Object.keys(o.geo).length > 0 && { geo: o.geo }),
            timeoutMs: o.timeout * 1000,
            ...(!o.json && {
              onProgress: (p) => {
                const line = describeProgress(p);
                if (line) print(line);
              },
            }),
          });
          const c = placed.call;
          if (o.json) {
            process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
          } else {
            // A call that was never answered has no duration: say nothing rather than "- s".
            const duration = c.duration ? `, duration ${c.duration} s` : "";
            const error = c.error_code ? `, error ${c.error_code}: ${c.error_message}` : "";
            print(`ended    ${c.status} in ${placed.region}${duration}${error}`);
            print(`call     ${c.sid}`);
          }
          // Scripts tell a call that went as planned from one that did not by the exit code alone.
          if (c.status !== "completed" || c.error_code) process.exitCode = EXIT.failed;
        } finally {
          await nc.close();
        }
      }),
    );
}

/** `hello there:4@#`: says "hello there" for 4 s, then presses #. Seconds and key are optional. */
export function parseRecording(spec: string): { text?: string; seconds?: number; key?: string } {
  let rest = spec;
  const key = /@([0-9#*])$/.exec(rest)?.[1];
  if (key !== undefined) rest = rest.slice(0, -2);
  const seconds = /:([0-9]+(?:\.[0-9]+)?)$/.exec(rest)?.[1];
  if (seconds !== undefined) rest = rest.slice(0, -(seconds.length + 1));
  return {
    ...(rest && { text: rest }),
    ...(seconds !== undefined && { seconds: Number(seconds) }),
    ...(key !== undefined && { key }),
  };
}
