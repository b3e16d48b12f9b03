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
  httpProtocolViolation: entry(11206, "HTTP protocol violation", 502),
  httpBadHostName: entry(11210, "HTTP bad host name", 502),
  tooManyRedirects: entry(11215, "HTTP too many redirects", 502),
  httpInvalidRedirect: entry(11216, "HTTP invalid redirect", 502),
  httpErrorResponse: entry(11217, "HTTP error response code", 502),
  tlsHandshakeError: entry(11220, "SSL/TLS Handshake Error", 502),
  certificateDomainMismatch: entry(11235, "Certificate Invalid - Domain Mismatch", 502),
  certificateExpired: entry(11236, "Certificate Invalid - Certificate Expired", 502),
  certificatePathNotFound: entry(11237, "Certificate Invalid - Could not find path to certificate", 502),
  invalidEdge: entry(11240, "HTTP connection edge location is invalid"),
  unsupportedEdge: entry(11241, "HTTP connection edge location is not supported"),
  interconnectNotAllowed: entry(11242, "HTTP connection over Twilio Interconnect is not allowed"),
  invalidRetryPolicy: entry(11243, "HTTP retry policy is invalid"),
  responseTooLarge: entry(11750, "TwiML response body too large", 502),
  emptyChunkedBody: entry(11770, "Empty response body", 502),
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
  // A nested <Say>'s and <Play>'s own codes (13510, 13511, 13420) have Gather's numbers inside it.
  gatherSayInvalidVoice: entry(13321, "Gather->Say: Invalid voice value", 400, "warning"),
  gatherSayInvalidLoop: entry(13322, "Gather->Say: Invalid loop value", 400, "warning"),
  gatherPlayInvalidContentType: entry(13325, "Gather->Play: Invalid Content-Type", 502),
  gatherInvalidInput: entry(13326, "Gather: Invalid input value", 400, "warning"),
  gatherInvalidSpeechTimeout: entry(13327, "Gather: Invalid speechTimeout value", 400, "warning"),
  gatherInvalidMaxSpeechTime: entry(13328, "Gather: Invalid maxSpeechTime value", 400, "warning"),
  gatherInvalidHints: entry(13330, "Gather: Invalid hints value", 400, "warning"),
  gatherInvalidBargeIn: entry(13332, "Gather: Invalid bargeIn value", 400, "warning"),
  gatherInvalidProfanityFilter: entry(13333, "Gather: Invalid profanityFilter value", 400, "warning"),
  gatherInvalidSpeechModel: entry(13334, "Gather: Invalid model value", 400, "warning"),
  gatherInvalidDebug: entry(13336, "Gather: Invalid debug value", 400, "warning"),
  gatherInvalidActionOnEmptyResult: entry(13338, "Gather: Invalid actionOnEmptyResult value"),
  gatherInvalidEnhanced: entry(13339, "Gather: Invalid enhanced value", 400, "warning"),
  playInvalidLoop: entry(13410, "Play: invalid loop value", 400, "warning"),
  playInvalidContentType: entry(13420, "Play: Invalid Content-Type", 502),
  playInvalidDigits: entry(13430, "Play: invalid DTMF digits", 400, "warning"),
  sayInvalidLoop: entry(13510, "Say: invalid loop value", 400, "warning"),
  sayInvalidVoice: entry(13511, "Say: Invalid voice value", 400, "warning"),
  sayInvalidText: entry(13520, "Say: invalid text", 400, "warning"),
  sayTooLong: entry(13521, "Say: text too long", 400, "warning"),
  recordInvalidMethod: entry(13610, "Record: Invalid method value", 400, "warning"),
  recordInvalidTimeout: entry(13611, "Record: Invalid timeout value", 400, "warning"),
  recordInvalidMaxLength: entry(13612, "Record: Invalid maxLength value", 400, "warning"),
  recordInvalidFinishOnKey: entry(13613, "Record: Invalid finishOnKey value", 400, "warning"),
  recordInvalidTranscribe: entry(13614, "Record: Invalid transcribe value", 400, "warning"),
  recordInvalidPlayBeep: entry(13616, "Record: playBeep must be true or false", 400, "warning"),
  recordInvalidStatusCallbackEvent: entry(13621, "Invalid 'recordingStatusCallbackEvent'", 400, "warning"),
  recordInvalidTrim: entry(13699, "Record: Invalid trim value", 400, "warning"),
  redirectInvalidMethod: entry(13710, "Redirect: invalid method value", 400, "warning"),
  rejectInvalidReason: entry(13810, "Reject: invalid reason", 400, "warning"),
  pauseInvalidLength: entry(13910, "Pause: invalid length", 400, "warning"),
  referNotSip: entry(13801, "Refer not allowed on non-SIP call legs", 400),
  // Sms (Twilio 141xx; warnings)
  smsInvalidTo: entry(14101, 'Invalid "To" attribute', 400, "warning"),
  smsInvalidFrom: entry(14102, 'Invalid "From" attribute', 400, "warning"),
  smsInvalidBody: entry(14103, "Invalid Body", 400, "warning"),
  smsInvalidMethod: entry(14104, "Invalid Method attribute", 400, "warning"),
  smsInvalidStatusCallback: entry(14105, "Invalid statusCallback attribute", 400, "warning"),
  dialConferenceMixed: entry(13000, "Conference Noun cannot be mixed with Number nouns", 400, "warning"),
  dialOutFromDialSegment: entry(13201, "Dial: Cannot Dial out from a Dial Call Segment", 400, "warning"),
  dialInvalidMethod: entry(13210, "Dial: Invalid method value", 400, "warning"),
  dialInvalidTimeout: entry(13212, "Dial: Invalid timeout value", 400, "warning"),
  dialInvalidHangupOnStar: entry(13213, "Dial: Invalid hangupOnStar value", 400, "warning"),
  dialInvalidCallerId: entry(13214, "Dial: Invalid callerId value", 400, "warning"),
  dialInvalidNestedElement: entry(13215, "Dial: Invalid nested element", 400, "warning"),
  dialInvalidTimeLimit: entry(13216, "Dial: Invalid timeLimit value", 400, "warning"),
  dialInvalidRecord: entry(13217, "Dial: Invalid record value", 400, "warning"),
  dialInvalidAnswerOnBridge: entry(13219, "Dial: Invalid answerOnBridge value", 400, "warning"),
  dialInvalidRingTone: entry(13220, "Dial: Invalid ringTone value", 400, "warning"),
  dialNumberInvalidMethod: entry(13221, "Dial->Number: Invalid method value", 400, "warning"),
  dialNumberInvalidSendDigits: entry(13222, "Dial->Number: Invalid sendDigits value", 400, "warning"),
  dialInvalidPhoneNumberFormat: entry(13223, "Dial: Invalid phone number format", 400, "warning"),
  // Twilio still names `coach` by its first name, `whisper`.
  conferenceInvalidCoach: entry(13240, "Dial->Conference: Invalid Whisper SID"),
  dialSipInvalidUri: entry(13243, "Dial->SIP: Invalid SIP URI", 400, "warning"),
  dialInvalidHeaderName: entry(13252, "Dial: Invalid header name", 400, "warning"),
  // Conferences (Twilio 16xxx)
  participantLabelTaken: entry(16025, "Participant label already exists in the conference", 400, "warning"),
  // Call progress callbacks (Twilio 15xxx)
  callbackErrorResponse: entry(15003, "Call Progress: Warning Response to Callback URL", 400, "warning"),
  // Media Streams (Twilio 319xx)
  streamConnectionTimeout: entry(31901, "Stream - WebSocket - Connection Timeout", 504),
  streamHandshakeError: entry(31920, "Stream - WebSocket - Handshake Error", 502),
  streamUrlSchema: entry(31922, "Stream - WebSocket - URL Schema Not Supported", 400),
  streamInvalidTrack: entry(31941, "Stream - Invalid Track configuration", 400),
  streamInvalidMessage: entry(31951, "Stream - Protocol - Invalid Message", 400, "warning"),
  // REST and accounts (Twilio 2xxxx)
  authenticationFailed: entry(20003, "Authentication Error - invalid username", 401),
  methodNotAllowed: entry(20004, "Method not allowed", 405),
  notFound: entry(20404, "The requested resource was not found", 404),
  conflict: entry(20409, "Conflict", 409),
  invalidParameter: entry(20422, "Invalid Parameter", 400),
  tooManyRequests: entry(20429, "Too Many Requests", 429),
  internalServerError: entry(20500, "Internal Server Error", 500),
  serviceUnavailable: entry(20503, "Service Unavailable", 503),
  noToNumber: entry(21201, "No 'To' number is specified"),
  fromNotVerified: entry(21210, "'From' phone number not verified"),
  noFromNumber: entry(21213, "No 'From' number is specified"),
  invalidCallMethod: entry(21209, "Invalid Method"),
  invalidToNumber: entry(21211, "Invalid 'To' Phone Number"),
  invalidFromNumber: entry(21212, "Invalid 'From' Phone Number"),
  phoneNumberInvalid: entry(21421, "PhoneNumber is invalid"),
  phoneNumberUnavailable: entry(21422, "PhoneNumber is not available"),
  noVoiceUrl: entry(21205, "Url parameter is required", 400),
  invalidNumberMethod: entry(21403, "Invalid Method"),
  fallbackWithoutVoiceUrl: entry(21405, "VoiceFallbackUrl requires a VoiceUrl", 400),
  // Calls (Twilio 3xxxx)
  maxCallDuration: entry(32015, "Call exceeded the maximum duration", 400),
  twimlParamTooLong: entry(32018, "Twiml parameter is too long", 400),
  twimlAndUrlBothSet: entry(32019, "Twiml and Voice URL are both set. Using Voice URL.", 400, "warning"),
  callNotInProgress: entry(21220, "Call is not in-progress. Cannot redirect.", 400),
  // switchboard's own (no Twilio equivalent): the NATS bus
  badPayload: entry(90001, "Bus payload could not be decoded", 400),
  invalidPayload: entry(90002, "Bus payload failed validation", 400),
  regionUnavailable: entry(90003, "The call's region did not accept it", 503),
  tooManyDocuments: entry(90006, "Too many TwiML documents for one call", 400),
  offerTooLarge: entry(90007, "Call offer too large", 400),
  smsNotSent: entry(90008, "Sms verb recorded, not sent", 400, "warning"),
  numberNotConfigured: entry(90004, "The number has no configuration in the call's region", 404),
  waitedTooLong: entry(90005, "No worker in the call's region took it in time", 503),
  conferenceFull: entry(90009, "Conference is full (maxParticipants)", 400, "warning"),
  sipCallGone: entry(90010, "The call is gone from its SIP gateway", 410),
  mediaConversionFailed: entry(90011, "Audio could not be synthesised or converted", 502),
  callActorFailed: entry(90012, "The call's actor failed", 500),
  notificationsLimited: entry(90013, "Too many notifications for one call", 400, "warning"),
  noSipGateway: entry(90014, "No SIP gateway took the outbound call", 503),
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
