// Reads a tree of sources, resolves every import between them, and checks the house's import rules
// (written as data in test/architecture.test.ts). Pure over a file map, so a test can feed it a
// broken tree and watch it fail.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import ts from "typescript";

/** Repository-relative posix path -> file text. */
export type FileMap = ReadonlyMap<string, string>;

/** One rule. `from` and the targets are globs: `dir/**` (everything under dir), `*` within a name. */
export type Rule =
  | {
      readonly from: string | readonly string[];
      /** Targets these files may not import (files, or packages by name). */
      readonly mustNotImport: readonly string[];
      readonly why: string;
    }
  | {
      readonly from: string | readonly string[];
      /** The only targets these files may import; anything else is a violation. */
      readonly mayImportOnly: readonly string[];
      readonly why: string;
    }
  | {
      /** No file under these globs is on an import cycle (type-only imports count). */
      readonly noCyclesIn: readonly string[];
      readonly why: string;
    }
  | {
      readonly from: string | readonly string[];
      /** A folder beside the repository (`../name`) these files may not reach by a relative path. */
      readonly mustNotReadBeside: string;
      readonly why: string;
    };

export interface Import {
  readonly specifier: string;
  /** The imported file (repository-relative), or the package name for a bare specifier. */
  readonly target: string;
  readonly line: number;
}

export interface Violation {
  readonly rule: string;
  readonly file: string;
  readonly line?: number;
  /** What was imported or read; for a cycle, the files around it, first file repeated at the end. */
  readonly detail: string;
  readonly cycle?: readonly string[];
}

const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;
const SKIP_DIRS = new Set(["node_modules", "dist", ".git"]);

/** Reads every file under `dirs` (relative to `root`) into a map keyed by repository-relative path. */
export function readTree(root: string, dirs: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        if (!SKIP_DIRS.has(name)) walk(full);
      } else {
        files.set(relative(root, full).split(sep).join("/"), readFileSync(full, "utf8"));
      }
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return files;
}

/** The import specifiers of one source file: static, `import type`, `export … from`, import(), import("x").T. */
export function specifiersOf(path: string, text: string): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node, literal: ts.Node | undefined): void => {
    if (literal && ts.isStringLiteralLike(literal)) {
      found.push({
        specifier: literal.text,
        line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
      });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Where a specifier leads: a file of the map, or a package name (`@scope/pkg`, `node:fs`). */
export function resolve(files: FileMap, from: string, specifier: string): string {
  if (!specifier.startsWith(".")) {
    const parts = specifier.split("/");
    return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
  }
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const stem = base.replace(/\.(js|mjs|ts)$/, "");
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.js`, `${base}/index.ts`];
  return candidates.find((c) => files.has(c)) ?? base;
}

const graphs = new WeakMap<FileMap, Map<string, Import[]>>();

/** Every source file's imports, resolved (parsed once per file map: each rule reads the same graph). */
export function importGraph(files: FileMap): Map<string, Import[]> {
  const known = graphs.get(files);
  if (known) return known;
  const graph = new Map<string, Import[]>();
  for (const [path, text] of files) {
    if (!SOURCE.test(path)) continue;
    graph.set(
      path,
      specifiersOf(path, text).map(({ specifier, line }) => ({
        specifier,
        line,
        target: resolve(files, path, specifier),
      })),
    );
  }
  graphs.set(files, graph);
  return graph;
}

/** Whether a path (or package name) matches a glob: `dir/**`, `*` within one segment, or exactly. */
export function matches(glob: string, path: string): boolean {
  if (glob.endsWith("/**")) return path.startsWith(glob.slice(0, -2));
  if (!glob.includes("*")) return glob === path;
  const pattern = glob
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  return new RegExp(`^${pattern}$`).test(path);
}

const anyOf = (globs: string | readonly string[], path: string): boolean =>
  (typeof globs === "string" ? [globs] : globs).some((g) => matches(g, path));

/** Checks every rule over the file map; an empty list means the tree keeps them all. */
export function checkRules(files: FileMap, rules: readonly Rule[]): Violation[] {
  const graph = importGraph(files);
  const violations: Violation[] = [];
  for (const rule of rules) {
    if ("noCyclesIn" in rule) {
      for (const { cycle, tangle } of findCycles(graph, (path) => anyOf(rule.noCyclesIn, path))) {
        const more =
          tangle.length > cycle.length - 1
            ? ` (one cycle of a tangle of ${tangle.length} files: ${tangle.join(", ")})`
            : "";
        violations.push({
          rule: rule.why,
          file: cycle[0] ?? "",
          detail: `${cycle.join(" -> ")}${more}`,
          cycle,
        });
      }
    } else if ("mustNotReadBeside" in rule) {
      for (const [path, text] of files) {
        if (!anyOf(rule.from, path)) continue;
        for (const hit of reachesOutside(path, text, `../${rule.mustNotReadBeside}`)) {
          violations.push({ rule: rule.why, file: path, line: hit.line, detail: hit.text });
        }
      }
    } else {
      for (const [path, imports] of graph) {
        if (!anyOf(rule.from, path)) continue;
        for (const imp of imports) {
          const broken =
            "mustNotImport" in rule
              ? anyOf(rule.mustNotImport, imp.target)
              : !anyOf(rule.mayImportOnly, imp.target);
          if (broken) violations.push({ rule: rule.why, file: path, line: imp.line, detail: imp.target });
        }
      }
    }
  }
  return violations;
}

/**
 * The import cycles among the files `inScope` accepts: one per tangle (strongly connected component),
 * as the shortest cycle through its first file and the tangle's files, so 37 tangled files make one
 * report, not thousands.
 */
export function findCycles(
  graph: ReadonlyMap<string, readonly Import[]>,
  inScope: (path: string) => boolean,
): { cycle: string[]; tangle: string[] }[] {
  const edges = new Map<string, string[]>();
  for (const [path, imports] of graph) {
    if (!inScope(path)) continue;
    const targets = imports.map((i) => i.target).filter((t) => graph.has(t) && inScope(t));
    edges.set(path, [...new Set(targets)].sort());
  }
  const cycles: { cycle: string[]; tangle: string[] }[] = [];
  for (const component of stronglyConnected(edges)) {
    const tangle = [...component].sort();
    const first = tangle[0] as string;
    const selfLoop = edges.get(first)?.includes(first) ?? false;
    if (component.size < 2 && !selfLoop) continue;
    cycles.push({ cycle: shortestCycle(edges, first, component), tangle });
  }
  return cycles.sort((a, b) => (a.tangle[0] as string).localeCompare(b.tangle[0] as string));
}

/** Tarjan's algorithm, iterative (a deep import chain must not overflow the stack). */
function stronglyConnected(edges: ReadonlyMap<string, readonly string[]>): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: Set<string>[] = [];
  let next = 0;
  for (const root of [...edges.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; i: number }[] = [{ node: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; i: number };
      const out = edges.get(frame.node) ?? [];
      if (frame.i < out.length) {
        const to = out[frame.i++] as string;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(to) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent)
        low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component = new Set<string>();
        let member: string | undefined;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.add(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** The shortest path from `start` back to itself within its component, `start` at both ends. */
function shortestCycle(
  edges: ReadonlyMap<string, readonly string[]>,
  start: string,
  component: ReadonlySet<string>,
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const to of edges.get(node) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at) as string) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

/**
 * The strings in a file that lead to `outside` (e.g. a folder beside the repository), taken relative either to the file
 * (new URL(…, import.meta.url), join(__dirname, …)) or to the repository root (a script's cwd).
 * Source files are read by their string literals, so a comment naming the path is not a read.
 */
export function reachesOutside(
  path: string,
  text: string,
  outside: string,
): { line: number; text: string }[] {
  const wanted = posix.normalize(outside);
  const leads = (literal: string): boolean => {
    for (const match of literal.matchAll(/(?:\.\.\/)+[^\s"'`]*/g)) {
      for (const base of [posix.dirname(path), "."]) {
        const reached = posix.normalize(posix.join(base, match[0]));
        if (reached === wanted || reached.startsWith(`${wanted}/`)) return true;
      }
    }
    return false;
  };
  const hits: { line: number; text: string }[] = [];
  if (SOURCE.test(path)) {
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false);
    const visit = (node: ts.Node): void => {
      if ((ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) && leads(node.text)) {
        hits.push({
          line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
          text: node.text,
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  } else {
    text.split("\n").forEach((line, i) => {
      if (!line.trimStart().startsWith("#") && leads(line)) hits.push({ line: i + 1, text: line.trim() });
    });
  }
  return hits;
}
