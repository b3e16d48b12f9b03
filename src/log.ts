// pino everywhere: JSON lines for machines (tests parse them), pretty when a person is watching.
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  if (process.stdout.isTTY) {
    return pino({
      name,
      level,
      transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname" } },
    });
  }
  return pino({ name, level });
}
