import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { MEASURED } from "./costs.js";
import { BEGIN_MARKER, END_MARKER, renderTables } from "./model.js";

/**
 * Prints the capacity tables from the measured costs; `--write` puts them into docs/capacity.md between
 * its markers (what `test/capacity.test.ts` checks).
 */
const block = `${BEGIN_MARKER}\n${renderTables(MEASURED)}\n${END_MARKER}`;
if (process.argv.includes("--write")) {
  const path = resolve(import.meta.dirname, "../../../../docs/capacity.md");
  const doc = readFileSync(path, "utf8");
  const start = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`${path}: no capacity markers`);
  writeFileSync(path, doc.slice(0, start) + block + doc.slice(end + END_MARKER.length));
  process.stdout.write(`${path} updated\n`);
} else process.stdout.write(`${block}\n`);
