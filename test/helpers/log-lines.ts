// A logger whose lines a test can wait for: what a component says it did (a phone became
// unreachable, a caller authenticated) is often the event a test has to wait on.
//
//   const logs = logLines();
//   await startGateway(engine, "gw1", { log: logs.log });
//   await logs.waitFor((l) => l.msg === "SIP phone unreachable");
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../src/log.js";

export interface LogLine {
  msg: string;
  [field: string]: unknown;
}

export interface LogLines {
  log: Logger;
  lines: LogLine[];
  /** The first line (from the start; `index` is its place in `lines`) that matches, waiting at most `timeoutMs`. */
  waitFor(match: (line: LogLine, index: number) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export function logLines(): LogLines {
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split("\n")) if (text) lines.push(JSON.parse(text) as LogLine);
      for (const w of [...waiters]) w();
      done();
    },
  });
  return {
    log: pino({ level: "debug" }, sink),
    lines,
    waitFor: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching log line within ${timeoutMs} ms; got: ${lines.map((l) => l.msg).join(" | ")}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}
