// <Connect><Stream>: a bidirectional Media Stream. The document waits until the app's server closes
// the WebSocket (or the caller hangs up), then requests the action URL, or goes on to the next verb.
// Connect's other nouns (ConversationRelay, Room, VirtualAgent…) are not simulated: warned and skipped.
import { ErrorCodes } from "../../errors/codes.js";
import type { ConnectVerb, StreamNoun, VerbOutcome } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkNoText } from "../verb-parsing.js";
import { callbackUrl, httpMethod, parseStream } from "./connect/stream.js";

const schema = ErrorCodes.schemaValidation.code;

export const connect: VerbDefinition<ConnectVerb> = {
  name: "Connect",
  parse(el, ctx) {
    checkAttributes(el, ["action", "method"], ctx);
    checkNoText(el, ctx);
    let stream: StreamNoun | undefined;
    for (const child of el.children) {
      if (typeof child === "string") continue;
      if (child.name !== "Stream") {
        ctx.warn(schema, `<Connect><${child.name}> is not supported by switchboard; ignored`, child);
      } else if (stream) {
        ctx.warn(schema, "<Connect> takes one noun; the second <Stream> is ignored", child);
      } else {
        stream = parseStream(child, ctx, true);
      }
    }
    if (!stream) {
      ctx.warn(schema, "<Connect> has no <Stream> switchboard can run; skipped");
      return undefined;
    }
    const action = callbackUrl(el.attributes.action, ctx, el);
    return {
      name: "Connect",
      ...(action && { action }),
      method: httpMethod(el.attributes.method, ctx, el),
      stream,
    };
  },

  async execute(ctx, verb, signal): Promise<VerbOutcome> {
    await ctx.streams.connect(verb.stream, signal);
    signal.throwIfAborted();
    return verb.action ? { kind: "fetch", url: verb.action, method: verb.method } : { kind: "next" };
  },
};
