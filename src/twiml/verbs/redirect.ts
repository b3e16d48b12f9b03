// <Redirect>: hands the call to the TwiML at its body URL; verbs after it never run.
import { ErrorCodes } from "../../errors/codes.js";
import type { HttpMethod } from "../../model/http.js";
import type { RedirectVerb } from "../verb-data.js";
import type { ParseContext, VerbDefinition } from "../verb-definition.js";
import { bodyUrl, checkAttributes, checkChildElements } from "../verb-parsing.js";

export const redirect: VerbDefinition<RedirectVerb> = {
  name: "Redirect",
  parse(el, ctx) {
    checkAttributes(el, ["method"], ctx);
    checkChildElements(el, ctx);
    const method = parseMethod(el.attributes.method, ctx);
    const url = bodyUrl(el, ctx);
    return url === undefined ? undefined : { name: "Redirect", url, method };
  },
  async execute(_ctx, verb, signal) {
    signal.throwIfAborted();
    return { kind: "fetch", url: verb.url, method: verb.method };
  },
};

/** GET or POST exactly as Twilio documents them (upper case); anything else is warned about, then POST. */
function parseMethod(raw: string | undefined, ctx: ParseContext): HttpMethod {
  if (raw === undefined || raw === "POST") return "POST";
  if (raw === "GET") return "GET";
  ctx.warn(
    ErrorCodes.redirectInvalidMethod.code,
    `<Redirect> method="${raw}" is not GET or POST; using POST`,
  );
  return "POST";
}
