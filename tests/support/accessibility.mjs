// axe-core (the engine behind Lighthouse's and Chrome DevTools' accessibility audits) run on
// a page as it is now, against the WCAG 2.0/2.1/2.2 A and AA rules.
import assert from "node:assert/strict";
import { AxeBuilder } from "@axe-core/playwright";

const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** Fails with every violation axe finds: the rule, up to five elements, and what to fix. */
export async function assertAccessible(page, where) {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG).analyze();
  const report = violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.slice(0, 5)
    .map((n) => `    ${n.target.join(" ")}: ${n.failureSummary?.replace(/\s+/g, " ")}`).join("\n")}`);
  assert.deepEqual(report, [], `${where}: ${violations.length} accessibility violation(s)`);
}
