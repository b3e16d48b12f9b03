// Twilio's REST error body: {code, message, more_info, status}.
import type { FastifyReply } from "fastify";
import { type ErrorCodeName, ErrorCodes, errorCodeInfo, moreInfoUrl } from "../errors/codes.js";
import type { SwitchboardError } from "../errors/switchboard-error.js";

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export function twilioErrorBody(code: number, message: string, status: number): TwilioErrorBody {
  return { code, message, more_info: moreInfoUrl(code), status };
}

export function sendTwilioError(reply: FastifyReply, name: ErrorCodeName, message: string): FastifyReply {
  const { code, httpStatus } = ErrorCodes[name];
  return reply.code(httpStatus).send(twilioErrorBody(code, message, httpStatus));
}

/**
 * Sends a SwitchboardError as Twilio would: its registry status, except that a fault in what the
 * client sent (a TwiML document given as `Twiml`, 12xxx) is the client's error, 400, not a 502.
 */
export function sendSwitchboardError(reply: FastifyReply, err: SwitchboardError): FastifyReply {
  const info = errorCodeInfo(err.code);
  let status = info?.httpStatus ?? 500;
  if (err.code >= 12000 && err.code < 13000 && status >= 500 && err.code !== 12400) status = 400;
  return reply.code(status).send(twilioErrorBody(err.code, err.message, status));
}
