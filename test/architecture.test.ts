// The house's import rules, written as data and checked over the real source (DESIGN.md §10):
// which folder may reach which, and that nothing imports in a circle or reads outside the repository.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkRules, type Rule, readTree, type Violation } from "./architecture/check-imports.js";

/** The processes: each runs on its own and talks to the others over NATS, never through imports. */
const PROCESSES = ["edge", "region", "api", "visualizer", "caller", "sip"] as const;

/** What the pure call machine may know of TwiML: the verbs as data and their outcomes, no ports. */
const VERB_DATA = [
  "src/twiml/verb-data.ts",
  "src/twiml/verbs/dial/data.ts",
  "src/twiml/verbs/record/data.ts",
];

const RULES: readonly Rule[] = [
  ...PROCESSES.map(
    (process): Rule => ({
      from: `src/${process}/**`,
      mustNotImport: PROCESSES.filter((other) => other !== process).map((other) => `src/${other}/**`),
      why: `the ${process} process talks to the other processes over src/protocol/, and shares only src/model/ and src/store/ with them (src/cli/ is the one place that composes them)`,
    }),
  ),
  {
    from: "machines/**",
    mayImportOnly: ["xstate", "machines/**", "src/model/**", ...VERB_DATA],
    why: "the call machines stay pure: xstate, the shared records and the verb data, never a port or anything that does I/O",
  },
  {
    noCyclesIn: ["src/**", "machines/**"],
    why: "no import cycles (type-only imports count): a cycle means two files are one module that pretends to be two",
  },
  {
    from: ["src/**", "test/**", ".ci/**"],
    mustNotReadBeside: "shared",
    why: "the project needs nothing outside its repository: a fresh clone must build and test on its own",
  },
];

const root = fileURLToPath(new URL("..", import.meta.url));

/** One violation per line, so a failure says at once what to fix. */
const report = (violations: readonly Violation[]): string[] =>
  violations.map((v) => `${v.file}${v.line ? `:${v.line}` : ""}: ${v.detail} (${v.rule})`);

describe("import rules", () => {
  const files = readTree(root, ["src", "machines", "test", ".ci"]);

  it("finds the source it checks", () => {
    expect(files.has("machines/call.machine.ts")).toBe(true);
    expect(files.has("src/region/worker.ts")).toBe(true);
  });

  for (const rule of RULES) {
    it(`keeps: ${rule.why}`, () => {
      expect(report(checkRules(files, [rule]))).toEqual([]);
    });
  }
});
