// Which Conditional Access policies reach no customer of the bank app. The console's
// directory (Alice, Bob, the break-glass admin, the Staff and Customers groups) is what What
// If simulates; the customers who sign up in the customer app are other accounts, in no
// group and with no role, in this browser's engine and on the Worker alike (the Worker's
// admin API has no call to create users or set their groups, so none can be pushed). A
// policy that includes only the directory's users, groups or roles therefore applies to no customer,
// and the page says so instead of letting What If and the bank app seem to disagree.
// No DOM, no engine calls.
//
//   policiesForNoCustomer(tenant)   // ["Require MFA for staff outside the office"]

/** `includeUsers` values that are not one named user. */
const SPECIAL_USERS = new Set(["All", "None", "GuestsOrExternalUsers"]);

/**
 * Whether a policy's users condition can only match the directory's own people. A user id
 * the directory does not hold may be a customer's (pasted from a token's `sub`), so such a
 * policy is not claimed to reach no one.
 */
function onlyDirectoryPeople(users, directory) {
  const include = users?.includeUsers ?? [];
  if (include.includes("All")) return false;
  const named = include.filter((u) => !SPECIAL_USERS.has(u));
  if (named.some((id) => !directory.users.some((u) => u.id === id))) return false;
  return named.length + (users?.includeGroups ?? []).length + (users?.includeRoles ?? []).length > 0;
}

/** Names of the policies (on or report-only) that include only the directory's users, groups or roles. */
export function policiesForNoCustomer(tenant) {
  return tenant.conditionalAccess.policies
    .filter((p) => p.state !== "disabled" && onlyDirectoryPeople(p.conditions?.users, tenant.directory))
    .map((p) => p.displayName);
}
