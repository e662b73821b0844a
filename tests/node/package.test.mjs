// The npm package as a Node user gets it: imported by name, resolved through pkg/package.json.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as vestibule from "vestibule";

test("the package imports by name in Node and reports its version", () => {
  const cargo = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8");
  const version = cargo.match(/^version\s*=\s*"([^"]+)"/m)[1];
  assert.deepEqual(vestibule.version(), { name: "vestibule", version });
});

test("the manifest written from pkg.json carries the crate version and the exports map", () => {
  const manifest = JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url), "utf8"));
  assert.equal(manifest.name, "vestibule");
  assert.equal(manifest.type, "module");
  for (const cond of ["types", "node", "browser", "workerd", "default"]) {
    assert.ok(manifest.exports["."][cond], `exports has ${cond}`);
  }
  for (const file of manifest.files) {
    assert.doesNotThrow(() => readFileSync(new URL(`../../pkg/${file}`, import.meta.url)), file);
  }
});
