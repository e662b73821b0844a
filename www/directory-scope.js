// Which Conditional Access policies reach no customer of the bank app. The console's
// directory (Alice, Bob, the break-glass admin, the Staff and Customers groups) is what What
// If simulates; the customers who sign up in the customer app are other accounts, in no
// group and with no role, in this browser's engine and on the Worker alike (the Worker's
// admin API has no call to create users or set their groups, so none can be pushed). A
// policy that includes only named users, groups or roles therefore applies to no customer,
// and the page says so instead of letting What If and the bank app seem to disagree.
// No DOM, no engine calls.
//
//   policiesForNoCustomer(tenant)   // ["Require MFA for staff outside the office"]

/** `includeUsers` values that are not one named user. */
const SPECIAL_USERS = new Set(["All", "None", "GuestsOrExternalUsers"]);

/** Whether a policy's users condition can only match the directory's own people. */
function onlyNamedPeople(users = {}) {
  if ((users.includeUsers ?? []).includes("All")) return false;
  const named = (users.includeUsers ?? []).filter((u) => !SPECIAL_USERS.has(u));
  return named.length + (users.includeGroups ?? []).length + (users.includeRoles ?? []).length > 0;
}

/** Names of the policies (on or report-only) that include only named users, groups or roles. */
export function policiesForNoCustomer(tenant) {
  return tenant.conditionalAccess.policies
    .filter((p) => p.state !== "disabled" && onlyNamedPeople(p.conditions?.users))
    .map((p) => p.displayName);
}
