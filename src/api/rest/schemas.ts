// JSON Schema pieces for the route definitions. Fastify validates params, query strings and form
// bodies with them, and /openapi.json is generated from them; response schemas only document
// (the plugin serializes with JSON.stringify, so a response is never trimmed to its schema).
import { pagingQuery } from "./paging.js";

type Schema = Record<string, unknown>;

export function sid(prefix: string, description?: string): Schema {
  return { type: "string", pattern: `^${prefix}[0-9a-fA-F]{32}$`, ...(description && { description }) };
}

/** Path parameters: all required. */
export function pathParams(properties: Record<string, Schema>): Schema {
  return { type: "object", required: Object.keys(properties), properties };
}

/** A list's query string: its filters plus Twilio's paging parameters. */
export function listQuery(filters: Record<string, Schema> = {}): Schema {
  return { type: "object", properties: { ...filters, ...pagingQuery } };
}

export function formBody(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: "object", properties, ...(required.length > 0 && { required }) };
}

/**
 * A resource's documented shape, from a compact field list: "string", "integer", "boolean",
 * "object", "array"; a trailing "?" makes the field nullable.
 */
export function resource(title: string, fields: Record<string, string>): Schema {
  const properties: Record<string, Schema> = {};
  for (const [name, spec] of Object.entries(fields)) {
    const nullable = spec.endsWith("?");
    const type = nullable ? spec.slice(0, -1) : spec;
    properties[name] = nullable ? { type, nullable: true } : { type };
  }
  return { title, type: "object", properties };
}

/** Twilio's list envelope around `item`, under `key`. */
export function listOf(key: string, item: Schema): Schema {
  return {
    type: "object",
    properties: {
      [key]: { type: "array", items: item },
      end: { type: "integer" },
      first_page_uri: { type: "string" },
      next_page_uri: { type: "string", nullable: true },
      page: { type: "integer" },
      page_size: { type: "integer" },
      previous_page_uri: { type: "string", nullable: true },
      start: { type: "integer" },
      uri: { type: "string" },
    },
  };
}

export const twilioError = resource("Error", {
  code: "integer",
  message: "string",
  more_info: "string",
  status: "integer",
});

/** The responses of a route: `ok` under its status, and Twilio's error body for the rest. */
export function responses(ok: Schema | null, status = 200): Schema {
  return {
    [status]: ok ? described(ok, "OK") : { type: "null", description: "No Content" },
    "4xx": described(twilioError, "Twilio error"),
  };
}

/** A response schema with the description /openapi.json gives the response (@fastify/swagger's key). */
export function described(schema: Schema, description: string): Schema {
  return { ...schema, "x-response-description": description };
}

export const STRING = { type: "string" } as const;
export const HTTP_METHOD = { type: "string", enum: ["GET", "POST", "get", "post"] } as const;
