// /openapi.json: an OpenAPI 3.0 description generated from the route schemas the REST routes
// are registered with (fastify's onRoute hook collects them), so it cannot drift from the code.
import type { FastifyInstance, RouteOptions } from "fastify";

type Schema = Record<string, unknown>;

interface CollectedRoute {
  method: string;
  url: string;
  schema: Schema;
}

export class OpenApiCollector {
  readonly routes: CollectedRoute[] = [];

  /** Collects every route registered in `app` (and its children) from now on. */
  watch(app: FastifyInstance): void {
    app.addHook("onRoute", (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === "HEAD" || !route.schema) continue;
        this.routes.push({ method: method.toLowerCase(), url: route.url, schema: route.schema as Schema });
      }
    });
  }

  document(version: string): Schema {
    const paths: Record<string, Record<string, Schema>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
      paths[path] ??= {};
      (paths[path] as Record<string, Schema>)[r.method] = operation(r.schema);
    }
    return {
      openapi: "3.0.3",
      info: {
        title: "switchboard REST API",
        version,
        description:
          "Twilio's REST API (2010-04-01 and Routes v2) over switchboard's records: docs/rest-api.md",
      },
      servers: [{ url: "/" }],
      security: [{ accountSid_authToken: [] }],
      components: { securitySchemes: { accountSid_authToken: { type: "http", scheme: "basic" } } },
      paths,
    };
  }
}

function operation(schema: Schema): Schema {
  const props = (s: unknown) =>
    Object.entries(((s as Schema | undefined)?.properties ?? {}) as Record<string, Schema>);
  const required = new Set(
    ((schema.querystring as Schema | undefined)?.required as string[] | undefined) ?? [],
  );
  const parameters = [
    ...props(schema.params).map(([name, s]) => ({ name, in: "path", required: true, schema: s })),
    ...props(schema.querystring).map(([name, s]) => ({
      name,
      in: "query",
      required: required.has(name),
      schema: s,
    })),
  ];
  const responses: Record<string, Schema> = {};
  for (const [status, s] of Object.entries((schema.response ?? {}) as Record<string, Schema>)) {
    const code = status.toUpperCase();
    if (s.type === "null") responses[code] = { description: "No Content" };
    else if (s.format === "binary") {
      responses[code] = { description: "Media", content: { [String(s.contentType)]: { schema: s } } };
    } else responses[code] = { description: code.startsWith("4") ? "Twilio error" : "OK", content: json(s) };
  }
  if (Object.keys(responses).length === 0) responses["200"] = { description: "OK" };
  return {
    operationId: schema.operationId,
    summary: schema.summary,
    tags: schema.tags,
    parameters,
    ...(schema.body !== undefined && {
      requestBody: { content: { "application/x-www-form-urlencoded": { schema: schema.body } } },
    }),
    responses,
  };
}

function json(schema: Schema): Schema {
  return { "application/json": { schema } };
}
