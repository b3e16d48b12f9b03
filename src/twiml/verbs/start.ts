// <Start><Stream>: a one-way Media Stream that runs in the background for the rest of the call (until
// <Stop><Stream> or the call's end); the document moves straight on. Other <Start> nouns (Siprec,
// Transcription) are not simulated: warned and skipped.
import { ErrorCodes } from "../../errors/codes.js";
import type { StartVerb, StreamNoun } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkNoText } from "../verb-parsing.js";
import { httpMethod, parseStream } from "./connect/stream.js";

export const start: VerbDefinition<StartVerb> = {
  name: "Start",
  parse(el, ctx) {
    checkAttributes(el, ["action", "method"], ctx);
    checkNoText(el, ctx);
    httpMethod(el.attributes.method, ctx, el);
    const streams: StreamNoun[] = [];
    for (const child of el.children) {
      if (typeof child === "string") continue;
      if (child.name !== "Stream") {
        ctx.warn(
          ErrorCodes.schemaValidation.code,
          `<Start><${child.name}> is not supported by switchboard; ignored`,
          child,
        );
        continue;
      }
      const stream = parseStream(child, ctx, false);
      if (stream) streams.push(stream);
    }
    return streams.length > 0 ? { name: "Start", streams } : undefined;
  },

  async execute(ctx, verb, signal) {
    // A stream that fails to open is reported by the port (31920, stream-error); the call goes on.
    for (const stream of verb.streams) {
      signal.throwIfAborted();
      await ctx.streams.start(stream);
    }
    return { kind: "next" };
  },
};
