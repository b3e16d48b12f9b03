// Operations Twilio's REST API has and switchboard does not carry out. They answer 405 with Twilio's
// 20004 ("the resource you accessed is valid, but the HTTP method … is not supported"), naming what
// is missing, rather than the 404 an unknown path gets: an app that deletes a call or starts a
// recording must not read "that call does not exist" when it does.

const ACCOUNT = "/2010-04-01/Accounts/AC[0-9a-fA-F]{32}";
const SID = (prefix: string) => `${prefix}[0-9a-fA-F]{32}`;

/** [method, path under the account, what it does on Twilio]. */
const OPERATIONS: ReadonlyArray<readonly [method: string, path: string, what: string]> = [
  ["POST", "\\.json", "changing an account (use switchboard accounts update)"],
  ["DELETE", `/Calls/${SID("CA")}\\.json`, "deleting a call's record"],
  ["POST", `/Calls/${SID("CA")}/Recordings\\.json`, "starting a recording of a live call"],
  ["POST", `/Calls/${SID("CA")}/Recordings/${SID("RE")}\\.json`, "pausing or resuming a call's recording"],
  ["DELETE", `/Calls/${SID("CA")}/Recordings/${SID("RE")}\\.json`, "deleting a recording"],
  ["DELETE", `/Recordings/${SID("RE")}\\.json`, "deleting a recording"],
  ["POST", `/Conferences/${SID("CF")}/Participants\\.json`, "adding a participant by calling it"],
  [
    "POST",
    `/Conferences/${SID("CF")}/Recordings/${SID("RE")}\\.json`,
    "pausing or resuming a conference's recording",
  ],
  ["DELETE", `/Conferences/${SID("CF")}/Recordings/${SID("RE")}\\.json`, "deleting a recording"],
  [
    "GET",
    "/Notifications\\.json",
    "the account's notifications (a call's are at Calls/{Sid}/Notifications.json)",
  ],
  ["GET", `/Notifications/${SID("NO")}\\.json`, "one of the account's notifications"],
  ["DELETE", `/Notifications/${SID("NO")}\\.json`, "deleting a notification"],
  [
    "POST",
    `/Calls/${SID("CA")}/Streams(/[A-Za-z0-9_-]+)?\\.json`,
    "starting or stopping a Media Stream over REST (use <Start><Stream>)",
  ],
  ["POST", `/Calls/${SID("CA")}/Siprec(/[A-Za-z0-9_-]+)?\\.json`, "SIPREC"],
  ["POST", `/Calls/${SID("CA")}/Payments(/[A-Za-z0-9_-]+)?\\.json`, "<Pay> sessions"],
  ["POST", `/Calls/${SID("CA")}/Transcriptions(/[A-Za-z0-9_-]+)?\\.json`, "real-time transcriptions"],
  ["POST", `/Calls/${SID("CA")}/UserDefinedMessages\\.json`, "user-defined messages"],
  [
    "POST",
    `/Calls/${SID("CA")}/UserDefinedMessageSubscriptions\\.json`,
    "user-defined message subscriptions",
  ],
];

const COMPILED = OPERATIONS.map(([method, path, what]) => ({
  method,
  re: new RegExp(`^${ACCOUNT}${path}$`),
  what,
}));

/** What a Twilio operation switchboard does not support does, or undefined for any other request. */
export function unsupportedOperation(method: string, url: string): string | undefined {
  const path = url.split("?")[0] ?? "";
  return COMPILED.find((op) => op.method === method && op.re.test(path))?.what;
}
