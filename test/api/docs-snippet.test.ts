// docs/rest-api.md's snippet for the official `twilio` client, run as written: taken out of the
// page, saved as an ES module and run by node as a child process against a real api.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./helpers/stack.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let stack: Stack;
const sids: string[] = [];
let ie1Sid = "";

beforeAll(async () => {
  stack = await startStack();
  await stack.number("+15551235001");
  for (let i = 0; i < 2; i++) sids.push((await stack.call("+15551235001")).callSid);
  await stack.number("+15551235002", { region: "ie1" });
  ie1Sid = (await stack.call("+15551235002")).callSid;
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** The ```js block after `<!-- snippet: NAME -->` in a doc. */
async function snippet(doc: string, name: string): Promise<string> {
  const text = await readFile(join(ROOT, doc), "utf8");
  const m = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!m?.[1]) throw new Error(`no snippet ${name} in ${doc}`);
  return m[1];
}

async function runModule(code: string, env: Record<string, string>) {
  // Inside the package (dist/ is not committed), so `import "twilio"` resolves as in a user's app.
  await mkdir(join(ROOT, "dist"), { recursive: true });
  const dir = await mkdtemp(join(ROOT, "dist", "snippet-"));
  try {
    const file = join(dir, "snippet.mjs");
    await writeFile(file, code);
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    const code_ = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    return { code: code_, stdout, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("docs/rest-api.md", () => {
  it("points the official twilio client at switchboard with the snippet as written", async () => {
    const ran = await runModule(await snippet("docs/rest-api.md", "twilio-client"), {
      SWITCHBOARD_ACCOUNT_SID: stack.account.sid,
      SWITCHBOARD_AUTH_TOKEN: stack.account.token,
      SWITCHBOARD_API_URL: stack.api.url,
    });
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    const lines = ran.stdout.trim().split("\n").sort();
    expect(lines).toEqual(sids.map((sid) => `${sid} completed`).sort());
  });

  it("lets the client's own region option pick switchboard's region, as the page says", async () => {
    const code = (await snippet("docs/rest-api.md", "twilio-client")).replace(
      "httpClient:",
      'region: "ie1",\n  httpClient:',
    );
    const ran = await runModule(code, {
      SWITCHBOARD_ACCOUNT_SID: stack.account.sid,
      SWITCHBOARD_AUTH_TOKEN: stack.account.token,
      SWITCHBOARD_API_URL: stack.api.url,
    });
    expect(ran.stderr).toBe("");
    expect(ran.stdout).toBe(`${ie1Sid} completed\n`);
  });
});
