// <Refer> on an outbound SIP call: `client.calls.create()` to a sip: URI (a sipp UAS) whose TwiML refers
// the callee elsewhere. The gateway sends the REFER in the leg's own dialog; the callee accepts it and
// reports the new call answered in a NOTIFY, and the action hears it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SipGateway } from "../../src/sip/gateway.js";
import { type Stack, startStack } from "../api/helpers/stack.js";
import { twilioClient } from "../api/helpers/twilio-client.js";
import { VoiceResponse } from "../helpers/twilio-app.js";
import { phoneRtp, startGateway } from "./harness.js";
import { sippUas } from "./uas.js";

const FROM = "+15551252031";

let stack: Stack;
let gateway: SipGateway | undefined;

beforeAll(async () => {
  stack = await startStack({
    routes: {
      "/refer": () => {
        const r = new VoiceResponse();
        r.refer({ action: "/referred" }).sip("sip:alice@example.com");
        return { body: r.toString() };
      },
      "/referred": () => ({ body: new VoiceResponse().hangup().toString() }),
    },
  });
  gateway = await startGateway(stack, "gw-refer");
  await stack.number(FROM);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await stack?.[Symbol.asyncDispose]();
});

describe("<Refer> on an outbound SIP call", () => {
  it("refers the callee in the leg's dialog, and the action hears its NOTIFY", {
    timeout: 60_000,
  }, async () => {
    await using phone = await phoneRtp("127.0.0.3");
    const uas = await sippUas("uas-refer.xml", { keys: { rtpport: phone.port } });
    const { client } = twilioClient(stack.api.url, stack.account);
    const created = await client.calls.create({
      to: `sip:callee@127.0.0.3:${uas.port}`,
      from: FROM,
      url: `${stack.app.url}/refer`,
    });
    // sipp exits 0 only if the REFER named sip:alice@example.com and the BYE came after its NOTIFY.
    const result = await uas.result;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const referred = await stack.app.waitFor(
      (r) => r.path === "/referred" && r.params.CallSid === created.sid,
    );
    expect(referred.params).toMatchObject({
      Direction: "outbound-api",
      ReferSipResponseCode: "202",
      NotifySipResponseCode: "200",
      ReferCallStatus: "in-progress",
    });
  });
});
