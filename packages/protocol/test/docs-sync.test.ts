import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES, ERROR_CODES, EVENT_TYPES, LIMITS } from "../src/index.js";

/** docs/protocol.md must restate the protocol's tables; these tests fail when the two drift apart. */
const DOC_URL = new URL("../../../docs/protocol.md", import.meta.url);
const doc = readFileSync(DOC_URL, "utf8");
const lines = doc.split(/\r?\n/);

const HEADER = ["code", "retryable", "where", "HTTP", "meaning"];

interface ErrorRow {
  code: string;
  retryable: string;
  where: string;
  HTTP: string;
  meaning: string;
}

/** Cells of a markdown table row: split on unescaped pipes, unescape `\|`, trim. */
function cells(line: string): string[] {
  const inner = line
    .trim()
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "");
  return inner.split(/(?<!\\)\|/).map((c) => c.replace(/\\\|/g, "|").trim());
}

const unticked = (cell: string) => cell.replace(/^`(.*)`$/, "$1");

/** The rows of the table under `## Error codes`, as written in the doc. */
function errorTableRows(): ErrorRow[] {
  const start = lines.findIndex((l) => /^##\s+Error codes\s*$/.test(l));
  expect(start, "docs/protocol.md has no `## Error codes` heading").toBeGreaterThanOrEqual(0);
  const nextSection = lines.findIndex((l, i) => i > start && /^#{1,2}\s/.test(l));
  const section = lines.slice(start + 1, nextSection === -1 ? undefined : nextSection);
  const headerAt = section.findIndex((l) => l.trim().startsWith("|"));
  expect(headerAt, "no table under `## Error codes`").toBeGreaterThanOrEqual(0);
  expect(cells(section[headerAt] ?? ""), "error table header").toEqual(HEADER);
  expect(
    cells(section[headerAt + 1] ?? "").every((c) => /^:?-{3,}:?$/.test(c)),
    "error table delimiter row",
  ).toBe(true);
  const rows: ErrorRow[] = [];
  for (const line of section.slice(headerAt + 2)) {
    if (!line.trim().startsWith("|")) break;
    const [code = "", retryable = "", where = "", HTTP = "", meaning = "", ...extra] = cells(line);
    expect(extra, `extra cells in error row: ${line}`).toEqual([]);
    rows.push({ code: unticked(code), retryable, where, HTTP, meaning });
  }
  return rows;
}

/** The same rows, built from ERROR_CODES. */
function expectedErrorRows(): ErrorRow[] {
  return Object.entries(ERROR_CODES).map(([code, info]) => ({
    code,
    retryable: info.retryable ? "yes" : "no",
    where: info.scopes.join(", "),
    HTTP: String(info.httpStatus),
    meaning: info.message,
  }));
}

describe("docs/protocol.md agrees with the protocol package", () => {
  it("lists exactly ERROR_CODES, in order, under `## Error codes`", () => {
    expect(
      lines.filter((l) => /^##\s+Error codes\s*$/.test(l)),
      "exactly one `## Error codes` heading",
    ).toHaveLength(1);
    expect(errorTableRows(), "the `## Error codes` table in docs/protocol.md (received) vs ERROR_CODES (expected)").toEqual(
      expectedErrorRows(),
    );
  });

  const names = [...EVENT_TYPES.map((name) => ["event type", name] as const), ...COMMAND_NAMES.map((name) => ["command", name] as const)];
  it.each(names)("documents the %s %s as a heading or inline code", (_kind, name) => {
    const asCode = doc.includes(`\`${name}\``);
    const asHeading = lines.some((l) => /^#{1,6}\s/.test(l) && new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`).test(l));
    expect(asCode || asHeading, `\`${name}\` is not mentioned as a heading or inline code`).toBe(true);
  });

  it.each(Object.entries(LIMITS))("states the limit %s = %d in a table row of its own", (key, value) => {
    const rows = lines.filter((l) => l.trim().startsWith("|") && unticked(cells(l)[0] ?? "") === key).map(cells);
    expect(rows, `no table row of docs/protocol.md starts with \`${key}\``).not.toEqual([]);
    const asNumber = (cell: string) => Number(unticked(cell).replace(/[,_\s]/g, ""));
    expect(
      rows.some((row) => row.slice(1).some((cell) => asNumber(cell) === value)),
      `the \`${key}\` row does not show its value ${value}: ${JSON.stringify(rows)}`,
    ).toBe(true);
  });
});
