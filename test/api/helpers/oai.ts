// Checks REST responses against Twilio's own OpenAPI description (`test/fixtures/twilio-oai/`, kept
// in the project) with ajv: a response's method, path and status pick the schema, as a client
// generated from that description would expect it. Error bodies are checked against Twilio's error
// object (the one the description gives for its 408), with all four fields required.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const OAI_DIR = fileURLToPath(new URL("../../fixtures/twilio-oai/", import.meta.url));

type Json = Record<string, unknown>;

interface Spec {
  id: string;
  doc: { paths: Record<string, Record<string, Json>> };
  matchers: Array<{ template: string; re: RegExp }>;
}

const RFC_2822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** The validator: Twilio's formats defined as Twilio's own examples use them. */
export function twilioAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // Twilio's `*_page_uri` fields are "format: uri" yet its examples are absolute paths.
  ajv.addFormat("uri", (s: string) => /^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i.test(s) || /^\/[^\s]*$/.test(s));
  ajv.addFormat("date-time-rfc-2822", RFC_2822);
  ajv.addFormat("currency", /^[A-Z]{3}$/);
  ajv.addFormat("http-method", /^(GET|POST|PUT|PATCH|DELETE|HEAD)$/);
  ajv.addFormat("phone-number", /^(\+\d{1,15}|client:.+|sip:.+)$/);
  for (const free of ["uri-map", "phone-number-capabilities", "twiml", "endpoint"]) ajv.addFormat(free, true);
  return ajv;
}

function load(file: string, id: string, ajv: Ajv): Spec {
  const doc = untypedNullables(JSON.parse(readFileSync(`${OAI_DIR}/${file}`, "utf8"))) as Spec["doc"];
  ajv.addSchema(doc as Json, id);
  const matchers = Object.keys(doc.paths).map((template) => ({
    template,
    re: new RegExp(`^${template.replace(/[.]/g, "\\.").replace(/\{[A-Za-z]+\}/g, "[^/]+")}$`),
  }));
  return { id, doc, matchers };
}

/**
 * OpenAPI 3.0 allows `nullable` on a schema with no `type` (any value, null included); ajv refuses
 * it, so it is dropped there, which means the same thing.
 */
function untypedNullables(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untypedNullables);
  if (!value || typeof value !== "object") return value;
  const entries = Object.entries(value).map(([k, v]) => [k, untypedNullables(v)] as const);
  const typed = "type" in value || "$ref" in value;
  return Object.fromEntries(entries.filter(([k]) => typed || k !== "nullable"));
}

/** Rewrites the description's local refs (`#/components/…`) to point into the loaded document. */
function rooted(schema: unknown, id: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => rooted(s, id));
  if (!schema || typeof schema !== "object") return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === "$ref" && typeof v === "string" && v.startsWith("#") ? `${id}${v}` : rooted(v, id),
    ]),
  );
}

export class TwilioSchemas {
  readonly ajv = twilioAjv();
  readonly specs = [
    load("twilio_api_v2010.subset.json", "v2010.json", this.ajv),
    load("twilio_routes_v2.json", "routes_v2.json", this.ajv),
  ];
  readonly #compiled = new Map<string, ValidateFunction>();
  readonly error: ValidateFunction;

  constructor() {
    const calls =
      this.specs[0]?.doc.paths["/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings/{Sid}.json"];
    const responses = (calls?.post?.responses ?? {}) as Record<
      string,
      { content: Record<string, { schema: Json }> }
    >;
    const error = responses["408"];
    if (!error) throw new Error("Twilio's description no longer has the error object this helper reads");
    const schema = error.content["application/json"]?.schema as Json;
    this.error = this.ajv.compile({ ...schema, required: ["code", "message", "more_info", "status"] });
  }

  /** The description's path template for a request path, or undefined when it has none. */
  template(path: string): { spec: Spec; template: string } | undefined {
    for (const spec of this.specs) {
      const m = spec.matchers.find((x) => x.re.test(path));
      if (m) return { spec, template: m.template };
    }
    return undefined;
  }

  /**
   * Validates one response; returns the errors (empty when valid). A success status the operation
   * does not declare is an error too; paths outside the description (media, /metrics) return null.
   */
  check(method: string, path: string, status: number, body: unknown): string[] | null {
    const errors = this.errors(method, path, status, body);
    return errors === null ? null : errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
  }

  /** The ajv errors of one response (see `check`). */
  errors(method: string, path: string, status: number, body: unknown): ErrorObject[] | null {
    const found = this.template(path);
    if (!found) return null;
    if (status >= 400) return this.#run(this.error, body);
    const op = found.spec.doc.paths[found.template]?.[method.toLowerCase()] as Json | undefined;
    const response = (op?.responses as Record<string, Json> | undefined)?.[String(status)];
    if (!response) return [problem(`${method} ${found.template} declares no ${status} response`)];
    const content = (response.content as Record<string, { schema: Json }> | undefined)?.["application/json"];
    if (!content) {
      return body === "" || body === undefined || body === null
        ? []
        : [problem("body where none is declared")];
    }
    const key = `${found.spec.id}|${found.template}|${method}|${status}`;
    let validate = this.#compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rooted(content.schema, found.spec.id) as Json);
      this.#compiled.set(key, validate);
    }
    return this.#run(validate, body);
  }

  #run(validate: ValidateFunction, body: unknown): ErrorObject[] {
    return validate(body) ? [] : [...(validate.errors ?? [])];
  }
}

function problem(message: string): ErrorObject {
  return { instancePath: "", schemaPath: "", keyword: "response", params: {}, message };
}

let shared: TwilioSchemas | undefined;
export function twilioSchemas(): TwilioSchemas {
  shared ??= new TwilioSchemas();
  return shared;
}
