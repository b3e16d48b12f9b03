// Twilio's REST API takes form-encoded POST bodies (its helper libraries send nothing else);
// a repeated name (StatusCallbackEvent=a&StatusCallbackEvent=b) becomes an array.
import type { FastifyInstance } from "fastify";

export function acceptFormBodies(app: FastifyInstance): void {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
    const parsed: Record<string, string | string[]> = {};
    for (const [name, value] of new URLSearchParams(String(body))) {
      const previous = parsed[name];
      if (previous === undefined) parsed[name] = value;
      else parsed[name] = Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
    done(null, parsed);
  });
}
