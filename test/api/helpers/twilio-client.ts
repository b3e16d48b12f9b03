// The official `twilio` REST client pointed at the api: a RequestClient that sends what the client
// would send to https://api.twilio.com (or routes.twilio.com) to the api instead, and checks every
// response against Twilio's OpenAPI description on the way back.
import twilio from "twilio";
import type BaseRequestClient from "twilio/lib/base/RequestClient.js";
import { expect } from "vitest";
import { twilioSchemas } from "./oai.js";
import type { Credentials } from "./stack.js";

export interface CheckedResponse {
  method: string;
  path: string;
  status: number;
}

class LocalRequestClient extends twilio.RequestClient {
  readonly seen: CheckedResponse[] = [];

  constructor(private readonly target: string) {
    super();
  }

  override async request<TData>(opts: BaseRequestClient.RequestOptions<TData>) {
    const url = new URL(opts.uri);
    const res = await super.request({ ...opts, uri: `${this.target}${url.pathname}${url.search}` });
    const body = typeof res.body === "string" && res.body.startsWith("{") ? JSON.parse(res.body) : res.body;
    const errors = twilioSchemas().check(opts.method, url.pathname, res.statusCode, body);
    expect(errors, `${opts.method} ${url.pathname} -> ${res.statusCode}`).toEqual(
      errors === null ? null : [],
    );
    this.seen.push({ method: opts.method.toUpperCase(), path: url.pathname, status: res.statusCode });
    return res;
  }
}

export function twilioClient(apiUrl: string, account: Credentials) {
  const httpClient = new LocalRequestClient(apiUrl);
  return { client: twilio(account.sid, account.token, { httpClient }), seen: httpClient.seen };
}
