// Twilio's REST error body: {code, message, more_info, status}.
import type { FastifyReply } from "fastify";
import { type ErrorCodeName, ErrorCodes, moreInfoUrl } from "../errors/codes.js";

export function sendTwilioError(reply: FastifyReply, name: ErrorCodeName, message: string): FastifyReply {
  const { code, httpStatus } = ErrorCodes[name];
  return reply.code(httpStatus).send({ code, message, more_info: moreInfoUrl(code), status: httpStatus });
}
