// The validator the other tests rely on must agree with Twilio: every example response in Twilio's
// description passes it, and a response with a wrong field fails it.
import { describe, expect, it } from "vitest";
import { twilioSchemas } from "./helpers/oai.js";

const schemas = twilioSchemas();

interface Example {
  method: string;
  path: string;
  status: number;
  name: string;
  value: unknown;
}

function examples(): Example[] {
  const out: Example[] = [];
  for (const spec of schemas.specs) {
    for (const [template, ops] of Object.entries(spec.doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const responses = (op as { responses?: Record<string, { content?: Record<string, unknown> }> })
          .responses;
        for (const [status, response] of Object.entries(responses ?? {})) {
          const json = response.content?.["application/json"] as
            | { examples?: Record<string, { value: unknown }> }
            | undefined;
          for (const [name, ex] of Object.entries(json?.examples ?? {})) {
            // Fill the template with sids of the right shape so the path matches itself.
            const path = template.replace(/\{[A-Za-z]+\}/g, "X1");
            out.push({ method, path, status: Number(status), name, value: ex.value });
          }
        }
      }
    }
  }
  return out;
}

describe("the Twilio schema validator", () => {
  const all = examples();

  it("finds Twilio's examples", () => {
    expect(all.length).toBeGreaterThan(40);
  });

  // Twilio's examples break their own schemas in three ways only: "" in sid/URL fields, null in
  // enum fields, and a string price where the schema says number. Everything else must pass, so
  // the formats defined here (RFC 2822 dates, relative page URIs, …) read values as Twilio writes them.
  it.each(all.map((e) => [`${e.method} ${e.path} ${e.status} ${e.name}`, e] as const))(
    "accepts Twilio's example %s",
    (_name, e) => {
      const unexplained = (schemas.errors(e.method, e.path, e.status, e.value) ?? []).filter((err) => {
        const value = at(e.value, err.instancePath);
        const quirk =
          value === "" ||
          (value === null && (err.keyword === "enum" || /_enum_[^/]*\/type$/.test(err.schemaPath))) ||
          (err.keyword === "type" && err.instancePath.endsWith("/price") && typeof value === "string");
        return !quirk;
      });
      expect(unexplained.map((err) => `${err.instancePath} ${err.message}`)).toEqual([]);
    },
  );

  it("rejects a call with a bad sid, an ISO date or an unknown status", () => {
    const call = all.find((e) => e.path.endsWith("/Calls/X1.json") && e.method === "get")?.value as Record<
      string,
      unknown
    >;
    const path = "/2010-04-01/Accounts/X1/Calls/X1.json";
    expect(schemas.check("get", path, 200, call)).toEqual([]);
    expect(schemas.check("get", path, 200, { ...call, sid: "CA123" })).not.toEqual([]);
    expect(schemas.check("get", path, 200, { ...call, date_created: "2024-01-01T00:00:00Z" })).not.toEqual(
      [],
    );
    expect(schemas.check("get", path, 200, { ...call, status: "done" })).not.toEqual([]);
  });

  it("rejects an error body without Twilio's fields", () => {
    expect(schemas.check("get", "/2010-04-01/Accounts/X1/Calls.json", 404, { message: "nope" })).not.toEqual(
      [],
    );
    expect(
      schemas.check("get", "/2010-04-01/Accounts/X1/Calls.json", 404, {
        code: 20404,
        message: "nope",
        more_info: "https://www.twilio.com/docs/errors/20404",
        status: 404,
      }),
    ).toEqual([]);
  });
});

function at(value: unknown, pointer: string): unknown {
  return pointer
    .split("/")
    .slice(1)
    .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);
}
