import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const BIOME = join(repo, "node_modules/@biomejs/biome/bin/biome");

type Diagnostic = { category: string; message: string; location: { path: string } };

describe("the repository's Biome config", () => {
  const work = mkdtempSync(join(tmpdir(), "agentcast-lint-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("fails an import the nearest package.json does not declare; devDependencies only in tests, configs and scripts", () => {
    // A fixture workspace linted with the repository's own biome.json.
    const config = JSON.parse(readFileSync(join(repo, "biome.json"), "utf8")) as Record<string, unknown>;
    delete config.$schema;
    writeFileSync(join(work, "biome.json"), JSON.stringify(config));
    writeFileSync(
      join(work, "package.json"),
      JSON.stringify({ name: "fixture", private: true, dependencies: { pino: "^10.0.0" }, devDependencies: { vitest: "^4.0.0" } }),
    );
    mkdirSync(join(work, "src"));
    mkdirSync(join(work, "test"));
    writeFileSync(
      join(work, "src/index.ts"),
      [
        'import { pino } from "pino";',
        'import { Counter } from "prom-client";',
        'import { describe } from "vitest";',
        "export const used = [pino, Counter, describe];",
        "",
      ].join("\n"),
    );
    writeFileSync(join(work, "src/index.test.ts"), 'import { it } from "vitest";\n\nexport const used = it;\n');
    writeFileSync(join(work, "test/e2e.test.ts"), 'import { it } from "vitest";\n\nexport const used = it;\n');
    writeFileSync(join(work, "vitest.config.ts"), 'import { defineConfig } from "vitest/config";\n\nexport default defineConfig({});\n');

    // The whole config, not `--only` (which would turn the rule on by itself): the fixture is otherwise clean.
    const lint = spawnSync(process.execPath, [BIOME, "lint", "--reporter=json", "."], {
      cwd: work,
      encoding: "utf8",
    });
    const report = JSON.parse(lint.stdout) as { diagnostics: Diagnostic[] };
    const found = report.diagnostics.map((d) => [d.location.path, d.category, d.message]);
    expect(found).toEqual([
      ["src/index.ts", "lint/correctness/noUndeclaredDependencies", "Dependency prom-client isn't specified in package.json."],
      ["src/index.ts", "lint/correctness/noUndeclaredDependencies", "Dependency vitest isn't specified in package.json."],
    ]);
    expect(lint.status).toBe(1);
  });
});
