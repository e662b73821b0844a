// The demo's customer app as the browser tests see it: its regions and the check that a
// given screen is showing. One copy for the in-browser journeys and the Worker journeys.
import assert from "node:assert/strict";

export const bank = (page) => page.getByRole("region", { name: "Woodgrove Bank" });
export const device = (page, name) => page.getByRole("region", { name }); // "Inbox" or "Phone"
export const messages = (page, name) => device(page, name).getByRole("listitem").filter({ hasText: /\d{6}/ });
export const decisions = (page) => page.getByRole("list", { name: "Engine decisions, newest first" });

/** Waits for the bank app's screen `title`; fails with what it shows instead, and why. */
export async function expectScreen(page, title, timeout = 10_000) {
  const heading = bank(page).getByRole("heading", { name: title, exact: true });
  try {
    await heading.waitFor({ state: "visible", timeout });
  } catch {
    const seen = await bank(page).getByRole("heading").allInnerTexts();
    const errors = await bank(page).locator(".field-error:visible").allInnerTexts();
    const log = await decisions(page).innerText();
    assert.fail(`expected the screen “${title}”, saw ${JSON.stringify(seen)} ${JSON.stringify(errors)}\n${log}`);
  }
}
