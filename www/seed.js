// The demo tenant as it starts: a small directory, two apps, two named locations and the
// Conditional Access policies an External ID tenant typically starts with. Ids look like
// the directory object ids Graph uses, so the JSON reads like a real export.

export const USERS = {
  alice: "3f6a1c2e-8b7d-4e15-9a0c-2d4b6e8f1a01",
  bob: "7c1d9e4b-2a6f-4d83-b5e0-9f3a7c2d4b02",
  breakGlass: "e0b7a5d3-1c9f-4a26-8e4b-6d2f0c8a9b03",
};
export const GROUPS = {
  staff: "5a1f7c3e-9d2b-4e6a-8c0f-1b3d5e7f9a10",
  customers: "8d2e4f6a-1b3c-4d5e-9f7a-2c4e6a8b0d20",
};
export const APPS = {
  shop: "5e3f8a2c-6d1b-4f7e-9c4a-0b8d2e6f1a11",
  bank: "9b4d2f6e-3a8c-4e1d-b7f5-2c0a9e4d6b22",
};
export const LOCATIONS = {
  blockedCountries: "1c4427fd-0885-4a3d-8b23-09a899ffa959",
  headOffice: "0854951d-5fc0-4eb1-b392-9b2c9d7949c2",
};
/** The Global Administrator directory role template id. */
const GLOBAL_ADMIN_ROLE = "62e90394-69f5-4237-9190-012177145e10";

const everyoneButBreakGlass = () => ({ includeUsers: ["All"], excludeUsers: [USERS.breakGlass] });

/** A fresh copy of the seeded tenant (see tenant.js for the shape). */
export function seedTenant() {
  return {
    schemaVersion: 1,
    organization: { displayName: "Contoso Customers", domain: "contoso.example" },
    directory: {
      users: [
        { id: USERS.alice, displayName: "Alice Martin", mail: "alice@contoso.example",
          description: "Staff member", groupIds: [GROUPS.staff], roleIds: [] },
        { id: USERS.bob, displayName: "Bob Jones", mail: "bob@example.net",
          description: "Customer", groupIds: [GROUPS.customers], roleIds: [] },
        { id: USERS.breakGlass, displayName: "Break-glass admin", mail: "emergency@contoso.example",
          description: "Emergency access account", groupIds: [],
          roleIds: [GLOBAL_ADMIN_ROLE], breakGlass: true },
      ],
      groups: [
        { id: GROUPS.staff, displayName: "Staff" },
        { id: GROUPS.customers, displayName: "Customers" },
      ],
    },
    applications: [
      { appId: APPS.shop, displayName: "Contoso Shop", description: "Online store" },
      { appId: APPS.bank, displayName: "Woodgrove Bank", description: "Online banking" },
    ],
    conditionalAccess: {
      namedLocations: [
        {
          "@odata.type": "#microsoft.graph.countryNamedLocation",
          id: LOCATIONS.blockedCountries,
          displayName: "Blocked countries",
          countriesAndRegions: ["KP", "IR", "SY"],
          includeUnknownCountriesAndRegions: false,
          countryLookupMethod: "clientIpAddress",
        },
        {
          "@odata.type": "#microsoft.graph.ipNamedLocation",
          id: LOCATIONS.headOffice,
          displayName: "Head office",
          isTrusted: true,
          ipRanges: [
            { "@odata.type": "#microsoft.graph.iPv4CidrRange", cidrAddress: "203.0.113.0/24" },
            { "@odata.type": "#microsoft.graph.iPv6CidrRange", cidrAddress: "2001:db8:10::/48" },
          ],
        },
      ],
      policies: [
        {
          id: "6c1e7b2a-4f3d-4a8e-9b5c-1d2e3f4a5b61",
          displayName: "Require MFA for all users",
          description: "Rolled out as report-only first, as Microsoft recommends; the break-glass account is excluded.",
          state: "enabledForReportingButNotEnforced",
          templateId: "a3d0a415-b068-4326-9251-f9cdf9feeb64",
          conditions: {
            clientAppTypes: ["all"],
            applications: { includeApplications: ["All"] },
            users: everyoneButBreakGlass(),
          },
          grantControls: { operator: "OR", builtInControls: ["mfa"] },
        },
        {
          id: "2b7d4e9f-1a3c-4b5d-8e6f-7a9b0c1d2e62",
          displayName: "Require MFA for the banking app",
          description: "Every sign-in to online banking needs a second factor.",
          state: "enabled",
          conditions: {
            clientAppTypes: ["all"],
            applications: { includeApplications: [APPS.bank] },
            users: everyoneButBreakGlass(),
          },
          grantControls: { operator: "OR", builtInControls: ["mfa"] },
        },
        {
          id: "9e3a5c7d-2f4b-4c6e-a8d0-3b5d7f9a1c63",
          displayName: "Block sign-ins from blocked countries",
          description: "No sign-in from a country on the blocked list, whatever the app.",
          state: "enabled",
          conditions: {
            clientAppTypes: ["all"],
            applications: { includeApplications: ["All"] },
            users: everyoneButBreakGlass(),
            locations: { includeLocations: [LOCATIONS.blockedCountries] },
          },
          grantControls: { operator: "OR", builtInControls: ["block"] },
        },
        {
          id: "4d6f8a0c-3e5a-4d7f-b9c1-4e6a8c0e2d64",
          displayName: "Require MFA for risky sign-ins",
          description: "Medium or high sign-in risk asks for a second factor.",
          state: "enabled",
          templateId: "6b619f55-792e-45dc-9711-d83ec9d7ae90",
          conditions: {
            signInRiskLevels: ["high", "medium"],
            clientAppTypes: ["all"],
            applications: { includeApplications: ["All"] },
            users: everyoneButBreakGlass(),
          },
          grantControls: { operator: "OR", builtInControls: ["mfa"] },
        },
        {
          id: "7f9b1d3e-4a6c-4e8a-8b2d-5f7b9d1f3e65",
          displayName: "Require MFA for staff outside the office",
          description: "Staff signing in from anywhere but the head office network prove it is them.",
          state: "enabled",
          conditions: {
            clientAppTypes: ["all"],
            applications: { includeApplications: ["All"] },
            users: { includeGroups: [GROUPS.staff] },
            locations: { includeLocations: ["All"], excludeLocations: [LOCATIONS.headOffice] },
          },
          grantControls: { operator: "OR", builtInControls: ["mfa"] },
        },
        {
          id: "3a5c7e9b-5b7d-4f9b-8c3e-6a8c0e2f4a66",
          displayName: "Require MFA for high-value transfers",
          description: "Woodgrove Bank asks for authentication context c1 (high-value transfer) before it moves money: that needs a second factor, even in a session that signed in without one.",
          state: "enabled",
          conditions: {
            clientAppTypes: ["all"],
            applications: { includeApplications: [], includeAuthenticationContextClassReferences: ["c1"] },
            users: everyoneButBreakGlass(),
          },
          grantControls: { operator: "OR", builtInControls: ["mfa"] },
        },
      ],
    },
    authenticationMethodsPolicy: {
      id: "authenticationMethodsPolicy",
      displayName: "Authentication Methods Policy",
      authenticationMethodConfigurations: [
        {
          "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
          id: "Email",
          state: "enabled",
          allowExternalIdToUseEmailOtp: "enabled",
          includeTargets: [{ targetType: "group", id: "all_users", isRegistrationRequired: false }],
        },
        {
          "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
          id: "Sms",
          state: "enabled",
          includeTargets: [{ targetType: "group", id: "all_users", isRegistrationRequired: false, isUsableForSignIn: false }],
        },
      ],
    },
    localAccount: { method: "emailPassword" },
    smsRegions: { includeAdditionalRegions: [], excludeRegions: [] },
  };
}
