// Every failure of a Twilio route leaves as Twilio's error body: validation errors with the
// parameter's Twilio code, SwitchboardErrors with their own code, JetStream outages as 20503 and
// anything else as 20500 (logged). Unknown paths are 20404, as on Twilio.

import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { type ErrorCodeName, ErrorCodes } from "../../errors/codes.js";
import { SwitchboardError } from "../../errors/switchboard-error.js";
import { MAX_TWIML_CHARS } from "../../protocol/outbound.js";
import { API_BODY_LIMIT } from "../body-limit.js";
import { sendSwitchboardError, sendTwilioError, twilioErrorBody } from "../twilio-error.js";
import { unsupportedOperation } from "./unsupported-operations.js";

/** Parameters whose bad values have a code of their own; the rest are 20422. */
const PARAMETER_CODES: Record<string, ErrorCodeName> = {
  PhoneNumber: "phoneNumberInvalid",
  Url: "invalidUrl",
  VoiceUrl: "invalidUrl",
  VoiceFallbackUrl: "invalidUrl",
  StatusCallback: "invalidUrl",
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      // A malformed sid in the path names nothing: Twilio answers 404 for it.
      if (err.validationContext === "params") return notFound(reply, req.url);
      const first = err.validation[0];
      const param =
        (first?.params as { missingProperty?: string } | undefined)?.missingProperty ??
        first?.instancePath.replace(/^\//, "") ??
        "";
      const code = methodCode(req.routeOptions.url, param) ?? PARAMETER_CODES[param] ?? "invalidParameter";
      const what = first?.keyword === "required" ? "is required" : `is invalid: ${first?.message ?? ""}`;
      return sendTwilioError(reply, code, `${param || err.validationContext} ${what}`.trim());
    }
    if (err instanceof SwitchboardError) return sendSwitchboardError(reply, err);
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE" && isCallRoute(req.routeOptions.url)) {
      // The one parameter of a call's request that can be long is its Twiml: Twilio answers 32018.
      const message = `the request body is larger than ${API_BODY_LIMIT} bytes; Twiml may be at most ${MAX_TWIML_CHARS} characters`;
      return sendTwilioError(reply, "twimlParamTooLong", message);
    }
    if (isUnavailable(err)) {
      req.log.warn({ err }, "JetStream did not answer a REST request");
      return sendTwilioError(reply, "serviceUnavailable", "the store did not answer in time; retry");
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own refusals (a body that does not parse, an unknown content type, …).
      const body = twilioErrorBody(ErrorCodes.invalidParameter.code, err.message, err.statusCode);
      return reply.code(err.statusCode).send(body);
    }
    req.log.error({ err }, "REST request failed");
    return sendTwilioError(reply, "internalServerError", "internal error");
  });
  app.setNotFoundHandler((req, reply) => {
    const what = unsupportedOperation(req.method, req.url);
    if (what === undefined) return notFound(reply, req.url);
    return sendTwilioError(
      reply,
      "methodNotAllowed",
      `switchboard does not support ${req.method} ${req.url.split("?")[0]}: ${what}`,
    );
  });
}

export function notFound(reply: FastifyReply, url: string): FastifyReply {
  return sendTwilioError(reply, "notFound", `The requested resource ${url.split("?")[0]} was not found`);
}

/**
 * A bad HTTP method for Twilio to use has a code of its own on a call (21209, "Invalid Method") and
 * on a number's voice config (21403).
 */
function methodCode(route: string | undefined, param: string): ErrorCodeName | undefined {
  if (isCallRoute(route) && param === "Method") return "invalidCallMethod";
  if (
    route?.includes("/IncomingPhoneNumbers") &&
    (param === "VoiceMethod" || param === "VoiceFallbackMethod")
  ) {
    return "invalidNumberMethod";
  }
  return undefined;
}

/** Creating a call or updating one: the routes that take a Twiml parameter. */
function isCallRoute(url: string | undefined): boolean {
  return url !== undefined && (url.endsWith("/Calls.json") || url.endsWith("/Calls/:CallSid.json"));
}

function isUnavailable(err: Error): boolean {
  return (
    err.name === "TimeoutError" ||
    err.name === "NoRespondersError" ||
    /timeout|no responders|jetstream not (enabled|available)/i.test(err.message)
  );
}
