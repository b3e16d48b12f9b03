// How a webhook request fails, as Twilio reports it (spec §4): every condition a request can end in,
// as a table of the Twilio code it is reported with and the retry policy (`#rp=`) that may try it again.
import type { ErrorCodeName } from "../errors/codes.js";
import { fail, type SwitchboardError } from "../errors/switchboard-error.js";
import type { RetryPolicyName } from "./connection-overrides.js";

interface Row {
  code: ErrorCodeName;
  /** The retry policy that allows another attempt; none for conditions never retried. */
  retryAs?: RetryPolicyName;
}

/**
 * Condition → Twilio code (11100 invalidUrl, 11200 retrieval, 11205 connection, 11206 protocol, 11210
 * host, 11215/11216 redirects, 11220–11237 TLS, 11750 size). A certificate or a protocol the server
 * gets wrong is not retried: another attempt would meet the same server.
 */
export const FAILURES = {
  invalidUrl: { code: "invalidUrl" },
  /** The URL's connection overrides (`#e=`, `#rp=`) name what Twilio refuses: nothing is requested. */
  invalidEdge: { code: "invalidEdge" },
  unsupportedEdge: { code: "unsupportedEdge" },
  interconnectNotAllowed: { code: "interconnectNotAllowed" },
  invalidRetryPolicy: { code: "invalidRetryPolicy" },
  refusedByEgress: { code: "httpRetrievalFailure" },
  invalidRequest: { code: "httpRetrievalFailure" },
  hostNotFound: { code: "httpBadHostName" },
  tlsHandshakeFailed: { code: "tlsHandshakeError" },
  certificateDomainMismatch: { code: "certificateDomainMismatch" },
  certificateExpired: { code: "certificateExpired" },
  certificateUntrusted: { code: "certificatePathNotFound" },
  protocolViolation: { code: "httpProtocolViolation" },
  connectFailed: { code: "httpConnectionFailure", retryAs: "ct" },
  readTimedOut: { code: "httpConnectionFailure", retryAs: "rt" },
  connectionLost: { code: "httpConnectionFailure", retryAs: "rt" },
  totalTimeout: { code: "httpConnectionFailure" },
  aborted: { code: "httpConnectionFailure" },
  clientErrorStatus: { code: "httpRetrievalFailure", retryAs: "4xx" },
  serverErrorStatus: { code: "httpRetrievalFailure", retryAs: "5xx" },
  otherStatus: { code: "httpRetrievalFailure" },
  bodyTooLarge: { code: "responseTooLarge" },
  redirectWithoutLocation: { code: "httpInvalidRedirect" },
  invalidRedirect: { code: "httpInvalidRedirect" },
  /** A 3xx Twilio does not follow (only 301, 302, 303 and 307 are redirects to it). */
  unfollowedRedirect: { code: "httpInvalidRedirect" },
  tooManyRedirects: { code: "tooManyRedirects" },
} as const satisfies Record<string, Row>;

export type FailureCondition = keyof typeof FAILURES;

type ErrorCodeRow = readonly [matches: (code: string) => boolean, condition: FailureCondition, what: string];

const DNS_CODES = ["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA"];
const CONNECT_CODES = [
  "UND_ERR_CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
];
/** OpenSSL's verify errors (Node's `err.code`) for a chain that leads to no trusted root. */
const UNTRUSTED_CODES = [
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_CHAIN_TOO_LONG",
];
/** undici's HTTPParserError has no code when llhttp gave none: `errorCode` names it HPE. */
const PARSER_ERROR = "HPE";
const LOST: ErrorCodeRow = [() => true, "connectionLost", "connection lost"];

/** A network error's code (ENOTFOUND, UND_ERR_…) → its condition; the first row that matches wins. */
const BY_ERROR_CODE: readonly ErrorCodeRow[] = [
  [(c) => DNS_CODES.includes(c), "hostNotFound", "host not found"],
  [(c) => c === "EEGRESS", "refusedByEgress", "refused by the egress policy"],
  [(c) => c === "UND_ERR_INVALID_ARG", "invalidRequest", "invalid request"],
  [(c) => c === "ERR_TLS_CERT_ALTNAME_INVALID", "certificateDomainMismatch", "certificate not for this host"],
  [
    (c) => c === "CERT_HAS_EXPIRED" || c === "CERT_NOT_YET_VALID",
    "certificateExpired",
    "certificate out of date",
  ],
  [(c) => UNTRUSTED_CODES.includes(c), "certificateUntrusted", "certificate not trusted"],
  // Any other certificate, TLS or OpenSSL failure: the handshake did not complete.
  [(c) => /^(ERR_SSL_|ERR_TLS_|CERT_)|^EPROTO$/.test(c), "tlsHandshakeFailed", "TLS handshake failed"],
  [(c) => c === PARSER_ERROR || c.startsWith("HPE_"), "protocolViolation", "not a valid HTTP response"],
  [(c) => CONNECT_CODES.includes(c), "connectFailed", "connection failed"],
  [(c) => c.endsWith("_TIMEOUT"), "readTimedOut", "read timed out"],
  LOST,
];

/**
 * What the server answered when it answered with an error status: kept (the body bounded, as
 * Twilio's debugger keeps the first 64 KB) so the call's Events, Notifications and the visualizer
 * can show why the app failed, not only that it did.
 */
export interface FailedResponse {
  status: number;
  /** Header names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** Media type only, lower-cased, without parameters. */
  contentType?: string;
  body: string;
  /** The body was longer than what is kept. */
  truncated?: boolean;
}

/** A failed attempt: its condition's code, and whether another attempt may follow. */
export interface Failure {
  kind: "failed";
  condition: FailureCondition;
  message: string;
  cause: unknown;
  retryAs?: RetryPolicyName;
  /** The HTTP status, when the server answered with an error status. */
  httpStatus?: number;
  /** The answer itself, when the server answered with an error status. */
  response?: FailedResponse;
}

export function failure(
  condition: FailureCondition,
  message: string,
  cause: unknown = new Error(message),
): Failure {
  const row: Row = FAILURES[condition];
  return { kind: "failed", condition, message, cause, ...(row.retryAs && { retryAs: row.retryAs }) };
}

/** The SwitchboardError a request that ends in `condition` throws. */
export function failed(condition: FailureCondition, message: string, cause?: unknown): SwitchboardError {
  return fail(FAILURES[condition].code, message, cause === undefined ? undefined : { cause });
}

/** A webhook request's error: its Twilio code, and what the server answered when it answered. */
export type WebhookError = SwitchboardError & { httpStatus?: number; response?: FailedResponse };

/** The error of the last failed attempt, with the attempts spent and the HTTP status and answer, if any. */
export function finalError(f: Failure, attempts: number): WebhookError {
  const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
  return Object.assign(failed(f.condition, `${f.message} (${tries})`, f.cause), {
    httpStatus: f.httpStatus,
    ...(f.response && { response: f.response }),
  });
}

/** The answer a webhook error carries, if the server answered (anything else thrown: none). */
export function failedResponseOf(err: unknown): FailedResponse | undefined {
  const r = (err as { response?: FailedResponse } | null | undefined)?.response;
  return r && typeof r.status === "number" && typeof r.body === "string" ? r : undefined;
}

/** Twilio's Notification `response_headers`: the headers form-encoded, `Name=value&…`. */
export function formEncodedHeaders(headers: Record<string, string>): string {
  return new URLSearchParams(headers).toString();
}

/** An answer outside 2xx (and not a redirect). */
export function statusFailure(status: number, at: string, response?: FailedResponse): Failure {
  const condition =
    status >= 500
      ? "serverErrorStatus"
      : status >= 400
        ? "clientErrorStatus"
        : status >= 300
          ? "unfollowedRedirect"
          : "otherStatus";
  return {
    ...failure(condition, `${at} answered HTTP ${status}`),
    httpStatus: status,
    ...(response && { response }),
  };
}

export interface NetworkContext {
  /** Origin and path of the hop, for messages. */
  at: string;
  host: string;
  timedOut: boolean;
  totalTimeoutMs: number;
  callerSignal: AbortSignal | undefined;
  egressDescription: string;
  /** Part of the response had arrived: never retried (spec §4). */
  partial: boolean;
}

/** A request that got no (complete) answer. */
export function networkFailure(err: unknown, c: NetworkContext): Failure {
  if (c.timedOut) {
    return failure(
      "totalTimeout",
      `${c.at}: no complete response within the total timeout of ${c.totalTimeoutMs} ms`,
      err,
    );
  }
  if (c.callerSignal?.aborted)
    return failure("aborted", `${c.at}: request aborted`, c.callerSignal.reason ?? err);
  const code = errorCode(err) ?? "unknown";
  const [, condition, what] = BY_ERROR_CODE.find(([matches]) => matches(code)) ?? LOST;
  const message =
    condition === "hostNotFound"
      ? `${c.host}: ${what} (${code})`
      : condition === "refusedByEgress"
        ? `${c.at}: ${what} (${c.egressDescription})`
        : condition === "invalidRequest"
          ? `${c.at}: ${what}`
          : `${c.at}: ${what} (${code})`;
  const f = failure(condition, message, err);
  if (c.partial) delete f.retryAs;
  return f;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; name?: unknown; errors?: unknown[]; cause?: unknown } | undefined;
  if (typeof e?.code === "string") return e.code;
  if (e?.name === "HTTPParserError") return PARSER_ERROR;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return errorCode(e.errors[0]);
  return e?.cause !== undefined && e.cause !== err ? errorCode(e.cause) : undefined;
}
