// `switchboard calls list|get|create|update`: the account's calls through the REST API (`switchboard api`),
// exactly as a Twilio client sees them. Credentials come from flags or the environment.
import { type Command, Option } from "commander";
import { request } from "undici";
import { SwitchboardError } from "../errors/switchboard-error.js";
import type { CallResource } from "../model/records.js";
import { action, parseName, parseNumber } from "./options.js";

interface ApiOptions {
  api: string;
  account?: string;
  token?: string;
  region?: string;
  json?: boolean;
}

interface ListOptions extends ApiOptions {
  to?: string;
  from?: string;
  status?: string;
  startTime?: string;
  startedAfter?: string;
  startedBefore?: string;
  pageSize: number;
  limit: number;
}

interface CreateOptions extends ApiOptions {
  to: string;
  from: string;
  url?: string;
  method?: string;
  twiml?: string;
  fallbackUrl?: string;
  statusCallback?: string;
  statusCallbackEvent: string[];
  timeout?: number;
  sendDigits?: string;
}

interface UpdateOptions extends ApiOptions {
  url?: string;
  method?: string;
  twiml?: string;
  status?: string;
}

export function registerCallsCommand(program: Command): void {
  const calls = program.command("calls").description("list, show and change calls through the REST API");

  withApi(calls.command("list"))
    .description("the account's calls, newest first")
    .option("--to <number>", "only calls to this number")
    .option("--from <number>", "only calls from this caller")
    .option("--status <status>", "only calls with this status (completed, busy, failed, …)")
    .option("--start-time <date>", "only calls that started on this day (YYYY-MM-DD, UTC)")
    .option("--started-after <date>", "only calls that started on or after this date")
    .option("--started-before <date>", "only calls that started before this date")
    .addOption(new Option("--page-size <n>", "calls per request").argParser(parseNumber(1, 1000)).default(50))
    .addOption(
      new Option("--limit <n>", "at most this many calls").argParser(parseNumber(1, 1e6)).default(50),
    )
    .action(
      action(async (o: ListOptions) => {
        const query = new URLSearchParams();
        const filters: Array<[string, string | undefined]> = [
          ["To", o.to],
          ["From", o.from],
          ["Status", o.status],
          ["StartTime", o.startTime],
          ["StartTime>", o.startedAfter],
          ["StartTime<", o.startedBefore],
        ];
        for (const [name, value] of filters) if (value !== undefined) query.set(name, value);
        query.set("PageSize", String(o.pageSize));
        const found: CallResource[] = [];
        let next: string | null = `${accountPath(o)}/Calls.json?${query}`;
        while (next && found.length < o.limit) {
          const page = (await callApi(o, "GET", next)) as {
            calls: CallResource[];
            next_page_uri: string | null;
          };
          found.push(...page.calls);
          next = page.next_page_uri;
        }
        const shown = found.slice(0, o.limit);
        if (o.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        else printTable(shown);
      }),
    );

  withApi(calls.command("get <CallSid>"))
    .description("one call: its stored record, or the live call as it is now")
    .action(
      action(async (sid: string, o: ApiOptions) => {
        const call = (await callApi(o, "GET", `${accountPath(o)}/Calls/${sid}.json`)) as CallResource;
        process.stdout.write(o.json ? `${JSON.stringify(call, null, 2)}\n` : describe(call));
      }),
    );

  withApi(calls.command("create"))
    .description("place an outbound call from one of the account's numbers (REST POST Calls.json)")
    .requiredOption("--to <to>", "whom to call: an E.164 number, sip:user@host or client:name")
    .requiredOption("--from <number>", "one of the account's numbers, the caller ID")
    .option("--url <url>", "the TwiML to run once the callee answers")
    .option("--method <method>", "GET or POST, for --url")
    .option("--twiml <twiml>", "TwiML to run instead of fetching --url")
    .option("--fallback-url <url>", "requested when --url fails")
    .option("--status-callback <url>", "told of the call's progress")
    .addOption(
      new Option("--status-callback-event <event...>", "initiated, ringing, answered, completed")
        .choices(["initiated", "ringing", "answered", "completed"])
        .default([]),
    )
    .addOption(new Option("--timeout <s>", "seconds the callee may ring").argParser(parseNumber(1, 600)))
    .option("--send-digits <keys>", "keys to press once the callee answers")
    .action(
      action(async (o: CreateOptions, cmd: Command) => {
        // A usage error (exit 2), as a missing required option is.
        if (o.url === undefined && o.twiml === undefined) cmd.error("error: give --url or --twiml");
        const form = new URLSearchParams({ To: o.to, From: o.from });
        const optional: Array<[string, string | undefined]> = [
          ["Url", o.url],
          ["Method", o.method],
          ["Twiml", o.twiml],
          ["FallbackUrl", o.fallbackUrl],
          ["StatusCallback", o.statusCallback],
          ["Timeout", o.timeout === undefined ? undefined : String(o.timeout)],
          ["SendDigits", o.sendDigits],
        ];
        for (const [name, value] of optional) if (value !== undefined) form.set(name, value);
        for (const event of o.statusCallbackEvent) form.append("StatusCallbackEvent", event);
        const call = (await callApi(o, "POST", `${accountPath(o)}/Calls.json`, form)) as CallResource;
        process.stdout.write(o.json ? `${JSON.stringify(call, null, 2)}\n` : describe(call));
      }),
    );

  withApi(calls.command("update <CallSid>"))
    .description("change a live call: run new TwiML (--url or --twiml) or end it (--status)")
    .option("--url <url>", "fetch this URL now and run the TwiML it returns")
    .option("--method <method>", "GET or POST, for --url")
    .option("--twiml <twiml>", "run this TwiML now")
    .addOption(new Option("--status <status>", "end the call").choices(["completed", "canceled"]))
    .action(
      action(async (sid: string, o: UpdateOptions) => {
        const form: Record<string, string> = {};
        if (o.url !== undefined) form.Url = o.url;
        if (o.method !== undefined) form.Method = o.method;
        if (o.twiml !== undefined) form.Twiml = o.twiml;
        if (o.status !== undefined) form.Status = o.status;
        const call = (await callApi(o, "POST", `${accountPath(o)}/Calls/${sid}.json`, form)) as CallResource;
        process.stdout.write(o.json ? `${JSON.stringify(call, null, 2)}\n` : describe(call));
      }),
    );
}

function withApi(command: Command): Command {
  return command
    .addOption(
      new Option("--api <url>", "the REST API's URL")
        .env("SWITCHBOARD_API_URL")
        .default("http://127.0.0.1:8080"),
    )
    .addOption(new Option("--account <AccountSid>", "the account (or $SWITCHBOARD_ACCOUNT_SID)"))
    .addOption(new Option("--token <token>", "its auth token (or $SWITCHBOARD_AUTH_TOKEN)"))
    .addOption(
      new Option("--region <region>", "the region whose calls to read (default us1)").argParser(parseName),
    )
    .option("--json", "print the API's JSON");
}

function credentials(o: ApiOptions): { sid: string; token: string } {
  const sid = o.account ?? process.env.SWITCHBOARD_ACCOUNT_SID ?? process.env.TWILIO_ACCOUNT_SID;
  const token = o.token ?? process.env.SWITCHBOARD_AUTH_TOKEN ?? process.env.TWILIO_AUTH_TOKEN;
  if (!sid || !token) {
    throw new Error("no credentials: pass --account and --token, or set SWITCHBOARD_ACCOUNT_SID/_AUTH_TOKEN");
  }
  return { sid, token };
}

function accountPath(o: ApiOptions): string {
  return `/2010-04-01/Accounts/${credentials(o).sid}`;
}

/** One request to the API; a Twilio error body becomes a SwitchboardError with its code. */
async function callApi(
  o: ApiOptions,
  method: "GET" | "POST",
  path: string,
  form?: Record<string, string> | URLSearchParams,
) {
  const { sid, token } = credentials(o);
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString("base64")}`,
  };
  // The api picks the region from the Host, as Twilio does (api.<region>.…).
  if (o.region) headers.host = `api.${o.region}.switchboard.local`;
  if (form) headers["content-type"] = "application/x-www-form-urlencoded";
  const res = await request(new URL(path, o.api), {
    method,
    headers,
    ...(form && { body: new URLSearchParams(form).toString() }),
  });
  const body = (await res.body.json().catch(() => ({}))) as { code?: number; message?: string };
  if (res.statusCode >= 400) {
    throw new SwitchboardError(body.code ?? res.statusCode, body.message ?? `HTTP ${res.statusCode}`);
  }
  return body;
}

function printTable(calls: CallResource[]): void {
  const rows = calls.map((c) => [c.sid, c.status, c.from, c.to, c.start_time ?? "", c.duration ?? ""]);
  const header = ["SID", "STATUS", "FROM", "TO", "STARTED", "DURATION"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  }
}

function describe(c: CallResource): string {
  const error = c.error_code ? `\nerror      ${c.error_code}: ${c.error_message}` : "";
  return (
    `call       ${c.sid}\nstatus     ${c.status}\nfrom       ${c.from}\nto         ${c.to}\n` +
    `started    ${c.start_time ?? "-"}\nended      ${c.end_time ?? "-"}\nduration   ${c.duration ?? "-"}${error}\n`
  );
}
