// The README's package example is code a reader copies: it runs here as written, and gives
// the answer its comment promises, so the two cannot drift apart.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";

test("the README's package example runs as written and answers what its comment says", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Using the package"));
  const block = section.match(/```js\n([\s\S]*?)```/)?.[1];
  assert.ok(block, "the section has a js block");
  assert.match(block, /from "vestibule"/, "it imports the package by name, as a user would");
  // Written next to this test so that `vestibule` resolves as an installed package does.
  const file = new URL(`./.readme-example-${process.pid}.mjs`, import.meta.url);
  writeFileSync(file, `${block}\nexport { answer };\n`);
  let answer;
  try {
    ({ answer } = await import(file.href));
  } finally {
    rmSync(file, { force: true });
  }
  // The comment in the block: answer.decision → { type: "require", mfa: true, policyIds: ["mfa-all"], ... }
  assert.equal(answer.error, undefined, JSON.stringify(answer));
  assert.equal(answer.decision.type, "require", JSON.stringify(answer.decision));
  assert.equal(answer.decision.mfa, true);
  assert.deepEqual(answer.decision.policyIds, ["mfa-all"]);
  assert.match(block, /answer\.decision → \{ type: "require", mfa: true, policyIds: \["mfa-all"\]/);
});
