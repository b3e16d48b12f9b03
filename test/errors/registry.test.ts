// The error-code registry (src/errors/codes.ts) and its documentation (docs/errors.md) must agree in both
// directions: a code added to the registry without a row, a row for a code that does not exist, or a
// level or title that drifted, fails here (as fastify's test/internals/errors.test.js does for its docs).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type ErrorCodeInfo, ErrorCodes, errorCodeInfo, moreInfoUrl } from "../../src/errors/codes.js";

const DOC_PATH = new URL("../../docs/errors.md", import.meta.url);
const HEADER = ["code", "level", "title", "when switchboard reports it"];

interface DocRow {
  /** 1-based line in docs/errors.md, for failure messages. */
  line: number;
  code: number;
  /** The id of the `<a id="…"></a>` anchor in the code cell, if there is one. */
  anchor: string | undefined;
  level: string;
  title: string;
  when: string;
}

/** The cells of a markdown table row; `\|` inside a cell is a literal pipe. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll("\\|", "|"));
}

/** The one table whose header is HEADER; throws when there is none or more than one. */
function parseTable(markdown: string): DocRow[] {
  const lines = markdown.split(/\r?\n/);
  const headers = lines.flatMap((line, i) =>
    line.trim().startsWith("|") && cells(line).join("|") === HEADER.join("|") ? [i] : [],
  );
  if (headers.length !== 1) {
    throw new Error(`docs/errors.md must have exactly one table headed | ${HEADER.join(" | ")} |`);
  }
  const start = (headers[0] ?? 0) + 2; // the header, then the |---| separator
  const rows: DocRow[] = [];
  for (let i = start; i < lines.length && lines[i]?.trim().startsWith("|"); i++) {
    const line = i + 1;
    const [codeCell = "", level = "", title = "", when = "", ...extra] = cells(lines[i] ?? "");
    if (extra.length > 0) throw new Error(`docs/errors.md:${line}: more than ${HEADER.length} cells`);
    const m = /^(?:<a id="([^"]*)"><\/a>\s*)?(\d+)$/.exec(codeCell);
    if (!m) throw new Error(`docs/errors.md:${line}: code cell "${codeCell}" is not a bare number`);
    rows.push({ line, code: Number(m[2]), anchor: m[1], level, title, when });
  }
  return rows;
}

const registry: [name: string, info: ErrorCodeInfo][] = Object.entries(ErrorCodes);
const rows = parseTable(readFileSync(DOC_PATH, "utf8"));

describe("the error-code registry", () => {
  it("has unique codes", () => {
    const codes = registry.map(([, info]) => info.code);
    const duplicates = codes.filter((code, i) => codes.indexOf(code) !== i);
    expect(duplicates).toEqual([]);
  });

  it("finds each entry by its code", () => {
    for (const [, info] of registry) expect(errorCodeInfo(info.code)).toBe(info);
  });

  it.each(registry)("links %s to its page", (_name, { code }) => {
    if (code < 90000) {
      expect(moreInfoUrl(code)).toBe(`https://www.twilio.com/docs/errors/${code}`);
    } else {
      expect(moreInfoUrl(code)).toMatch(new RegExp(`/docs/errors\\.md#${code}$`));
    }
  });
});

describe("docs/errors.md", () => {
  it("has the table", () => {
    expect(rows.length).toBeGreaterThan(0);
  });

  it.each(registry)("documents %s with the registry's code, level and title", (name, info) => {
    const documented = rows.filter((row) => row.code === info.code);
    expect(documented, `${name} (${info.code}) has no row in docs/errors.md`).toHaveLength(1);
    const [row] = documented;
    expect({ code: row?.code, level: row?.level, title: row?.title }).toEqual({
      code: info.code,
      level: info.level,
      title: info.title,
    });
    expect(row?.when, `row for ${info.code} says nothing about when it is reported`).not.toBe("");
  });

  it("documents no code that is not in the registry", () => {
    const unknown = rows.filter((row) => errorCodeInfo(row.code) === undefined);
    expect(
      unknown.map((row) => `docs/errors.md:${row.line}: ${row.code}`),
      "rows for codes not in src/errors/codes.ts",
    ).toEqual([]);
  });

  it("has one row per code, sorted by code", () => {
    const codes = rows.map((row) => row.code);
    expect(codes).toEqual([...new Set(codes)].sort((a, b) => a - b));
  });

  it("anchors every 90xxx code so moreInfoUrl lands on its row", () => {
    const wrong = rows
      .filter((row) => (row.code >= 90000 ? row.anchor !== String(row.code) : row.anchor !== undefined))
      .map((row) => `docs/errors.md:${row.line}: ${row.code} has anchor ${row.anchor ?? "(none)"}`);
    expect(wrong).toEqual([]);
  });
});
