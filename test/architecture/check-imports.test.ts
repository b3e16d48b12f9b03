// The import-rule checker itself: over a small broken tree held in memory it must report each broken
// rule (a cross-process import, a cycle, a machine reaching a port, a read beside the repository).
import { describe, expect, it } from "vitest";
import { checkRules, findCycles, importGraph, type Rule, specifiersOf } from "./check-imports.js";

const PROCESS_RULE: Rule = {
  from: "src/api/**",
  mustNotImport: ["src/region/**"],
  why: "processes import no other process's folder",
};
const MACHINE_RULE: Rule = {
  from: "machines/**",
  mayImportOnly: ["xstate", "machines/**", "src/model/**", "src/twiml/verb-data.ts"],
  why: "machines stay pure",
};
const CYCLE_RULE: Rule = { noCyclesIn: ["src/**"], why: "no cycles" };
const BESIDE_RULE: Rule = {
  from: ["src/**", "test/**", ".ci/**"],
  mustNotReadBeside: "shared",
  why: "self-contained",
};

// Built, not written out, so this file does not itself read beside the repository.
const UP = "../";

/** A tree that breaks every rule once, beside files that keep them. */
const broken = new Map<string, string>([
  [
    "src/api/lookup.ts",
    `import { lease } from "../region/leases.js";\nimport type { Call } from "../model/call.js";`,
  ],
  ["src/region/leases.ts", `export const lease = 1;`],
  ["src/model/call.ts", `export type Call = { sid: string };`],
  // A three-file cycle, one link of it type-only and one a re-export.
  ["src/twiml/a.ts", `import type { B } from "./b.js";\nexport type A = B;`],
  ["src/twiml/b.ts", `export * from "./c.js";\nexport type B = string;`],
  ["src/twiml/c.ts", `export const load = () => import("./a.js");`],
  ["src/twiml/verb-data.ts", `export type Verb = { name: string };`],
  [
    "src/twiml/ports.ts",
    `import type { Verb } from "./verb-data.js";\nexport interface Channel { say(v: Verb): void }`,
  ],
  [
    "machines/call.machine.ts",
    `import { setup } from "xstate";\nimport type { Verb } from "../src/twiml/verb-data.js";\nimport type { Channel } from "../src/twiml/ports.js";`,
  ],
  ["test/helpers/oai.ts", `const dir = new URL("${UP.repeat(3)}shared/twilio-oai/", import.meta.url);`],
  [
    "test/helpers/fine.ts",
    `// Once read from ${UP}shared/twilio-oai: a comment is not a read.\nconst dir = new URL("../fixtures/", import.meta.url);`,
  ],
  [".ci/run", `#!/usr/bin/env bash\n# not from ${UP}shared\ncp ${UP}shared/x.json test/\n`],
]);

describe("the import-rule checker", () => {
  it("reads static, type-only, re-exported, dynamic and type-position imports", () => {
    const text = [
      `import a from "./a.js";`,
      `import type { B } from "./b.js";`,
      `export { c } from "./c.js";`,
      `export * as d from "./d.js";`,
      `const e = await import("./e.js");`,
      `let f: import("./f.js").F;`,
      `// import g from "./g.js";`,
      `const h = "./h.js";`,
    ].join("\n");
    expect(specifiersOf("x.ts", text).map((s) => s.specifier)).toEqual([
      "./a.js",
      "./b.js",
      "./c.js",
      "./d.js",
      "./e.js",
      "./f.js",
    ]);
  });

  it("resolves a .js specifier to its .ts file and a bare one to its package", () => {
    const graph = importGraph(broken);
    expect(graph.get("src/api/lookup.ts")?.map((i) => i.target)).toEqual([
      "src/region/leases.ts",
      "src/model/call.ts",
    ]);
    expect(graph.get("machines/call.machine.ts")?.map((i) => i.target)[0]).toBe("xstate");
  });

  it("reports an import of another process's folder, with its line", () => {
    expect(checkRules(broken, [PROCESS_RULE])).toEqual([
      { rule: PROCESS_RULE.why, file: "src/api/lookup.ts", line: 1, detail: "src/region/leases.ts" },
    ]);
  });

  it("reports a machine that imports anything beyond what it may", () => {
    expect(checkRules(broken, [MACHINE_RULE])).toEqual([
      { rule: MACHINE_RULE.why, file: "machines/call.machine.ts", line: 3, detail: "src/twiml/ports.ts" },
    ]);
  });

  it("reports a cycle as the list of its files, counting type-only, re-export and dynamic links", () => {
    const [violation, ...more] = checkRules(broken, [CYCLE_RULE]);
    expect(more).toEqual([]);
    expect(violation?.cycle).toEqual([
      "src/twiml/a.ts",
      "src/twiml/b.ts",
      "src/twiml/c.ts",
      "src/twiml/a.ts",
    ]);
  });

  it("reports each tangle once, naming every file in it", () => {
    const tree = new Map([
      ["src/x.ts", `import "./y.js";`],
      ["src/y.ts", `import "./x.js";\nimport "./z.js";`],
      ["src/z.ts", `import "./y.js";`],
      ["src/self.ts", `import "./self.js";`],
      ["src/free.ts", `import "./x.js";`],
    ]);
    expect(findCycles(importGraph(tree), () => true)).toEqual([
      { cycle: ["src/self.ts", "src/self.ts"], tangle: ["src/self.ts"] },
      { cycle: ["src/x.ts", "src/y.ts", "src/x.ts"], tangle: ["src/x.ts", "src/y.ts", "src/z.ts"] },
    ]);
  });

  it("reports a file that reads beside the repository, but not a comment that names the path", () => {
    const found = checkRules(broken, [BESIDE_RULE]).map((v) => `${v.file}:${v.line}`);
    expect(found).toEqual(["test/helpers/oai.ts:1", ".ci/run:3"]);
  });

  it("finds nothing wrong in a tree that keeps the rules", () => {
    const kept = new Map(
      [...broken].filter(([path]) => path.startsWith("src/model/") || path.endsWith("verb-data.ts")),
    );
    expect(checkRules(kept, [PROCESS_RULE, MACHINE_RULE, CYCLE_RULE, BESIDE_RULE])).toEqual([]);
  });
});
