// A small flow configuration for the package's Flow in Node tests: email + password
// accounts of app `woodgrove`, email as the only second factor, MFA off, and the cheapest
// password hashing (tests measure no password cost).
export const APP = "woodgrove";

export function emailPasswordConfig() {
  return {
    authenticationMethodsPolicy: {
      id: "authenticationMethodsPolicy",
      authenticationMethodConfigurations: [
        { "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", id: "Email", state: "enabled",
          includeTargets: [{ targetType: "group", id: "all_users", isRegistrationRequired: false }] },
      ],
    },
    userFlow: {
      "@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
      displayName: "Woodgrove Bank",
      conditions: { applications: { includeApplications: [{ appId: APP }] } },
      onInteractiveAuthFlowStart: { isSignUpAllowed: true },
      onAuthenticationMethodLoadStart: { identityProviders: [{ id: "EmailPassword-OAUTH" }] },
    },
    settings: { mfaEnforcement: "off", passwords: { hashing: { memoryKib: 8, iterations: 1, parallelism: 1 } } },
  };
}
