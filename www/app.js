// The admin console: loads the engine (the `vestibule` package, through the import map),
// the tenant, and mounts one page per nav entry. Pages read the tenant through `app.tenant()`
// and change it only through `app.commit()`, which saves it and refreshes every page.
import { customerPage } from "./customer.js";
import { locationsPage } from "./locations.js";
import { methodsPage } from "./methods.js";
import { policiesPage } from "./policies.js";
import { loadTenant, onTenantChange, resetTenant, saveTenant } from "./tenant.js";
import { h, replace } from "./ui.js";
import { whatIfPage } from "./whatif.js";

const ROUTES = {
  "policies": "Policies",
  "locations": "Named locations",
  "methods": "Authentication methods",
  "what-if": "What If",
  "customer": "Customer app",
};
const $ = (selector) => document.querySelector(selector);

function fail(title, detail) {
  const box = $("#app-error");
  replace(box, h("p", {}, h("strong", {}, title)), detail ? h("p", {}, detail) : null);
  box.hidden = false;
  $("#engine-status").textContent = "Policy engine unavailable";
}

async function start() {
  let engine;
  try {
    engine = await import("vestibule");
  } catch (error) {
    fail("The policy engine could not be loaded.",
      `Build the package with \`bash scripts/build-pkg.sh\` and serve the repository with \`node scripts/serve-www.mjs\`. (${error?.message ?? error})`);
    return;
  }
  const info = engine.version();
  $("#engine-status").textContent = `Engine ${info.name} ${info.version} · WebAssembly`;

  let tenant = loadTenant();
  const saved = engine.validatePolicies(tenant.conditionalAccess);
  if (!saved.valid) {
    fail("The saved policies are not valid for this engine version.",
      `${saved.errors[0]?.target}: ${saved.errors[0]?.message}. Use “Reset demo data” to start again.`);
  }
  $("#org-name").textContent = tenant.organization.displayName;

  const app = { engine, tenant: () => tenant, commit: (next) => saveTenant(next) };
  const pages = [
    policiesPage($("#policies"), app),
    locationsPage($("#locations"), app),
    methodsPage($("#methods"), app),
    whatIfPage($("#what-if"), app),
    customerPage($("#customer"), app),
  ];
  onTenantChange((next) => {
    tenant = next;
    $("#org-name").textContent = tenant.organization.displayName;
    for (const page of pages) page.refresh();
  });

  $("#reset-tenant").addEventListener("click", () => {
    // eslint-disable-next-line no-alert -- a native confirm is accessible and enough for a demo
    if (confirm("Reset the demo tenant? Every policy, location and setting goes back to the seeded data.")) {
      resetTenant();
      $("#app-error").hidden = true;
    }
  });

  window.addEventListener("hashchange", () => route(true));
  route(false);
  document.body.dataset.ready = "true";
}

/** Shows the page named by the URL hash; on navigation, moves focus to its heading. */
function route(moveFocus) {
  const name = location.hash.slice(1);
  const current = name in ROUTES ? name : "policies";
  for (const id of Object.keys(ROUTES)) $(`#${CSS.escape(id)}`).hidden = id !== current;
  for (const link of document.querySelectorAll("[data-route]")) {
    if (link.dataset.route === current) {
      link.setAttribute("aria-current", "page");
      link.scrollIntoView({ block: "nearest", inline: "nearest" }); // the phone's nav scrolls sideways
    } else link.removeAttribute("aria-current");
  }
  document.title = `${ROUTES[current]} · Vestibule admin console`;
  if (moveFocus) $(`#${CSS.escape(current)} h2`)?.focus();
}

start();
