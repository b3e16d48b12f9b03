// <Stop><Stream name>: stops a stream that <Start> began. A <Stream> without a name stops every
// stream the call has running (switchboard's reading: Twilio documents stopping by name only).
import { ErrorCodes } from "../../errors/codes.js";
import type { StopVerb } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkNoText } from "../verb-parsing.js";

export const stop: VerbDefinition<StopVerb> = {
  name: "Stop",
  parse(el, ctx) {
    checkAttributes(el, [], ctx);
    checkNoText(el, ctx);
    const streams: { name?: string }[] = [];
    for (const child of el.children) {
      if (typeof child === "string") continue;
      if (child.name !== "Stream") {
        ctx.warn(
          ErrorCodes.schemaValidation.code,
          `<Stop><${child.name}> is not supported by switchboard; ignored`,
          child,
        );
        continue;
      }
      const name = child.attributes.name;
      streams.push(name ? { name } : {});
    }
    return streams.length > 0 ? { name: "Stop", streams } : undefined;
  },

  async execute(ctx, verb, signal) {
    for (const stream of verb.streams) {
      signal.throwIfAborted();
      await ctx.streams.stop(stream.name);
    }
    return { kind: "next" };
  },
};
