// <Client>: a Voice SDK client, named by its identity (body text or an <Identity> child), rung as a
// child leg to `client:<identity>`. <Parameter>s are accepted and kept for the client.
import { ErrorCodes } from "../../../errors/codes.js";
import { textOf } from "../../element.js";
import { checkAttributes, directText } from "../../verb-parsing.js";
import type { ClientNoun } from "./data.js";
import { LEG_ATTRIBUTES, parseLegOptions } from "./leg-options.js";
import type { DialNoun } from "./noun.js";
import { type LegToRing, ringLegs } from "./ring.js";

const MAX_IDENTITY = 256;

export const clientNoun: DialNoun<ClientNoun> = {
  name: "Client",
  parse(el, ctx) {
    checkAttributes(el, [...LEG_ATTRIBUTES, "clientNotificationUrl"], ctx);
    let identity = directText(el).trim();
    const parameters: Record<string, string> = {};
    for (const child of el.children) {
      if (typeof child === "string") continue;
      if (child.name === "Identity") identity = textOf(child).trim();
      else if (child.name === "Parameter" && child.attributes.name) {
        parameters[child.attributes.name] = child.attributes.value ?? "";
      } else {
        ctx.warn(
          ErrorCodes.schemaValidation.code,
          `<${child.name}> is not allowed inside <Client>; ignored`,
          child,
        );
      }
    }
    if (identity === "" || identity.length > MAX_IDENTITY) {
      ctx.warn(
        ErrorCodes.schemaValidation.code,
        `<Client> needs an identity of 1 to ${MAX_IDENTITY} characters; skipped`,
      );
      return undefined;
    }
    return { noun: "Client", identity, parameters, ...parseLegOptions(el, ctx) };
  },
  target: (noun) => clientTarget(noun),
  dial: (ctx, noun, options, signal) => ringLegs(ctx, [clientTarget(noun)], options, signal),
};

function clientTarget(noun: ClientNoun): LegToRing {
  return {
    to: `client:${noun.identity}`,
    ...(noun.url && { whisper: { url: noun.url, method: noun.method } }),
    options: noun,
  };
}
