// The simulated caller's script as `switchboard call` builds it: a JSON file in the CallerScript
// shape (--script), merged with the flags (--digits, --speech, --hangup-after, --callee). The same
// functions serve tests and scripts that place calls with `placeCall`.
import { readFile } from "node:fs/promises";
import { fail } from "../errors/switchboard-error.js";
import { type Callee, CalleeSchema, type CallerScript, CallerScriptSchema } from "../protocol/offer.js";

/**
 * Reads `TARGET=OUTCOME[:ANSWER_AFTER[:TALK]]`, e.g. `+15551230000=answer:3:20`, `sip:bob@x=busy`,
 * `client:alice=no-answer`. The target is everything before the last `=` (SIP URIs may hold `=`).
 */
export function parseCallee(spec: string): [target: string, callee: Callee] {
  const at = spec.lastIndexOf("=");
  const target = spec.slice(0, at).trim();
  const [outcome, answerAfter, talk] = spec.slice(at + 1).split(":");
  const parsed = CalleeSchema.safeParse({
    outcome,
    ...(answerAfter !== undefined && answerAfter !== "" && { answerAfter: Number(answerAfter) }),
    ...(talk !== undefined && talk !== "" && { talk: Number(talk) }),
  });
  if (at <= 0 || target === "" || !parsed.success) {
    throw fail(
      "invalidParameter",
      `callee "${spec}": expected TARGET=answer|busy|no-answer|failed[:answerAfter[:talk]]`,
    );
  }
  return [target, parsed.data];
}

/**
 * A script file's JSON, validated as a CallerScript. A file that cannot be read or is not JSON is the
 * user's file problem, not a Twilio error: it carries no Twilio code. A wrong shape is 20422.
 */
export async function readCallerScript(file: string): Promise<CallerScript> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "ENOENT" ? "no such file" : e.code === "EISDIR" ? "is a directory" : e.message;
    throw new Error(`cannot read the script ${file}: ${why}`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`the script ${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return validScript(value, `script ${file}`);
}

/**
 * The file's script with the flags on top: a flag replaces the file's field of the same name, and
 * callees are merged target by target (a --callee wins over the file's entry for that target).
 */
export function mergeCallerScript(
  file: CallerScript | undefined,
  flags: CallerScript & { callees?: Record<string, Callee> },
): CallerScript {
  const merged: CallerScript = { ...file, ...flags };
  const callees = { ...file?.callees, ...flags.callees };
  if (Object.keys(callees).length > 0) merged.callees = callees;
  return validScript(merged, "caller script");
}

function validScript(value: unknown, what: string): CallerScript {
  const result = CallerScriptSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw fail("invalidParameter", `${what}: ${issue?.path.join(".") || "value"}: ${issue?.message}`);
  }
  return result.data;
}
