// The one registry of error codes switchboard reports. Twilio's own codes keep Twilio's number and
// meaning (https://www.twilio.com/docs/errors/<code>); where Twilio has none (the NATS bus),
// switchboard uses the 90xxx range, which Twilio does not.

export type ErrorLevel = "error" | "warning";

export interface ErrorCodeInfo {
  readonly code: number;
  readonly level: ErrorLevel;
  /** Twilio's short title for the code. */
  readonly title: string;
  /** HTTP status when the error is returned by the REST API or as a bus reply. */
  readonly httpStatus: number;
}

function entry(code: number, title: string, httpStatus = 400, level: ErrorLevel = "error"): ErrorCodeInfo {
  return { code, title, httpStatus, level };
}

export const ErrorCodes = {
  // Webhook retrieval (Twilio 11xxx)
  invalidUrl: entry(11100, "Invalid URL format"),
  httpRetrievalFailure: entry(11200, "HTTP retrieval failure", 502),
  httpConnectionFailure: entry(11205, "HTTP connection failure", 502),
  httpBadHostName: entry(11210, "HTTP bad host name", 502),
  tooManyRedirects: entry(11215, "HTTP too many redirects", 502),
  httpErrorResponse: entry(11217, "HTTP error response code", 502),
  responseTooLarge: entry(11750, "TwiML response body too large", 502),
  // TwiML documents (Twilio 12xxx)
  documentParseFailure: entry(12100, "Document parse failure", 502),
  invalidXmlVersion: entry(12101, "Invalid TwiML XML version", 502),
  invalidRoot: entry(12102, "The root element must be Response", 502),
  schemaValidation: entry(12200, "Schema validation warning", 400, "warning"),
  invalidContentType: entry(12300, "Invalid Content-Type", 502),
  internalFailure: entry(12400, "Internal failure", 500),
  // Verb attributes (Twilio 13xxx; warnings, the call carries on)
  gatherInvalidTimeout: entry(13313, "Gather: invalid timeout value", 400, "warning"),
  gatherInvalidNumDigits: entry(13314, "Gather: invalid numDigits value", 400, "warning"),
  gatherInvalidFinishOnKey: entry(13310, "Gather: invalid finishOnKey value", 400, "warning"),
  gatherInvalidNestedVerb: entry(13320, "Gather: invalid nested verb", 400, "warning"),
  gatherInvalidMethod: entry(13312, "Gather: invalid method value", 400, "warning"),
  playInvalidLoop: entry(13410, "Play: invalid loop value", 400, "warning"),
  playInvalidDigits: entry(13430, "Play: invalid DTMF digits", 400, "warning"),
  sayInvalidLoop: entry(13510, "Say: invalid loop value", 400, "warning"),
  sayInvalidText: entry(13520, "Say: invalid text", 400, "warning"),
  sayTooLong: entry(13521, "Say: text too long", 400, "warning"),
  redirectInvalidMethod: entry(13710, "Redirect: invalid method value", 400, "warning"),
  rejectInvalidReason: entry(13810, "Reject: invalid reason", 400, "warning"),
  pauseInvalidLength: entry(13910, "Pause: invalid length", 400, "warning"),
  // Call progress callbacks (Twilio 15xxx)
  callbackErrorResponse: entry(15003, "Call Progress: Warning Response to Callback URL", 400, "warning"),
  // REST and accounts (Twilio 2xxxx)
  authenticationFailed: entry(20003, "Authentication Error - invalid username", 401),
  notFound: entry(20404, "The requested resource was not found", 404),
  invalidParameter: entry(20422, "Invalid Parameter", 400),
  tooManyRequests: entry(20429, "Too Many Requests", 429),
  internalServerError: entry(20500, "Internal Server Error", 500),
  serviceUnavailable: entry(20503, "Service Unavailable", 503),
  invalidToNumber: entry(21211, "Invalid 'To' Phone Number"),
  invalidFromNumber: entry(21212, "Invalid 'From' Phone Number"),
  phoneNumberInvalid: entry(21421, "PhoneNumber is invalid"),
  phoneNumberUnavailable: entry(21422, "PhoneNumber is not available"),
  noVoiceUrl: entry(21205, "Url parameter is required", 400),
  fallbackWithoutVoiceUrl: entry(21405, "VoiceFallbackUrl requires a VoiceUrl", 400),
  // Calls (Twilio 3xxxx)
  maxCallDuration: entry(32015, "Call exceeded the maximum duration", 400),
  twimlParamTooLong: entry(32018, "Twiml parameter is too long", 400),
  callNotInProgress: entry(21220, "Call is not in-progress. Cannot redirect.", 400),
  // switchboard's own (no Twilio equivalent): the NATS bus
  badPayload: entry(90001, "Bus payload could not be decoded", 400),
  invalidPayload: entry(90002, "Bus payload failed validation", 400),
  regionUnavailable: entry(90003, "The call's region did not accept it", 503),
  tooManyDocuments: entry(90006, "Too many TwiML documents for one call", 400),
  offerTooLarge: entry(90007, "Call offer too large", 400),
  numberNotConfigured: entry(90004, "The number has no configuration in the call's region", 404),
  waitedTooLong: entry(90005, "No worker in the call's region took it in time", 503),
  sipCallGone: entry(90010, "The call is gone from its SIP gateway", 410),
  mediaConversionFailed: entry(90011, "Audio could not be synthesised or converted", 502),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCodeName = keyof typeof ErrorCodes;

const byCode = new Map<number, ErrorCodeInfo>(Object.values(ErrorCodes).map((e) => [e.code, e]));

/** The registry entry for a numeric code, or undefined when switchboard never reports it. */
export function errorCodeInfo(code: number): ErrorCodeInfo | undefined {
  return byCode.get(code);
}

/** Twilio's documentation page for a code, as Twilio puts it in `more_info`. */
export function moreInfoUrl(code: number): string {
  return code >= 90000
    ? `https://github.com/switchboard/switchboard/blob/main/docs/errors.md#${code}`
    : `https://www.twilio.com/docs/errors/${code}`;
}
