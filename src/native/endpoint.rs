//! The fifteen V1 endpoints, and which flow steps each may continue.
//!
//! The flow engine checks that an input fits the step it is at, but several endpoints
//! send the same input (`/signup/v1.0/challenge` and `/resetpassword/v1.0/challenge`
//! both send `Challenge`). Binding each endpoint to the steps and flow kinds it belongs
//! to keeps a sign-up token from driving a password reset, and vice versa.

use crate::flow::FlowState;
use crate::flow::gate::After;
use crate::flow::state::FlowKind;

/// One native-auth endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `oauth2/v2.0/initiate`: start a sign-in.
    Initiate,
    /// `oauth2/v2.0/challenge`: first-factor challenge, or (with `id`) an MFA code.
    Challenge,
    /// `oauth2/v2.0/token`: password, codes, continuation and refresh grants.
    Token,
    /// `oauth2/v2.0/introspect`: the user's MFA methods.
    Introspect,
    /// `signup/v1.0/start`.
    SignUpStart,
    /// `signup/v1.0/challenge`.
    SignUpChallenge,
    /// `signup/v1.0/continue`.
    SignUpContinue,
    /// `resetpassword/v1.0/start`.
    ResetStart,
    /// `resetpassword/v1.0/challenge`.
    ResetChallenge,
    /// `resetpassword/v1.0/continue`.
    ResetContinue,
    /// `resetpassword/v1.0/submit`.
    ResetSubmit,
    /// `resetpassword/v1.0/poll_completion`.
    ResetPollCompletion,
    /// `register/v1.0/introspect`: methods that may be registered.
    RegisterIntrospect,
    /// `register/v1.0/challenge`: send a code to a new method.
    RegisterChallenge,
    /// `register/v1.0/continue`: verify it.
    RegisterContinue,
}

impl Endpoint {
    /// Every endpoint, for routing tables and tests.
    pub const ALL: [Endpoint; 15] = [
        Endpoint::Initiate,
        Endpoint::Challenge,
        Endpoint::Token,
        Endpoint::Introspect,
        Endpoint::SignUpStart,
        Endpoint::SignUpChallenge,
        Endpoint::SignUpContinue,
        Endpoint::ResetStart,
        Endpoint::ResetChallenge,
        Endpoint::ResetContinue,
        Endpoint::ResetSubmit,
        Endpoint::ResetPollCompletion,
        Endpoint::RegisterIntrospect,
        Endpoint::RegisterChallenge,
        Endpoint::RegisterContinue,
    ];

    /// The path below the tenant base URL, e.g. `oauth2/v2.0/initiate`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Initiate => "oauth2/v2.0/initiate",
            Endpoint::Challenge => "oauth2/v2.0/challenge",
            Endpoint::Token => "oauth2/v2.0/token",
            Endpoint::Introspect => "oauth2/v2.0/introspect",
            Endpoint::SignUpStart => "signup/v1.0/start",
            Endpoint::SignUpChallenge => "signup/v1.0/challenge",
            Endpoint::SignUpContinue => "signup/v1.0/continue",
            Endpoint::ResetStart => "resetpassword/v1.0/start",
            Endpoint::ResetChallenge => "resetpassword/v1.0/challenge",
            Endpoint::ResetContinue => "resetpassword/v1.0/continue",
            Endpoint::ResetSubmit => "resetpassword/v1.0/submit",
            Endpoint::ResetPollCompletion => "resetpassword/v1.0/poll_completion",
            Endpoint::RegisterIntrospect => "register/v1.0/introspect",
            Endpoint::RegisterChallenge => "register/v1.0/challenge",
            Endpoint::RegisterContinue => "register/v1.0/continue",
        }
    }

    /// The endpoint for `{family}/{version}/{operation}` (e.g. `signup`, `v1.0`,
    /// `start`), or `None` for any other path.
    pub fn from_parts(family: &str, version: &str, operation: &str) -> Option<Endpoint> {
        let path = format!("{family}/{version}/{operation}");
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// Whether the endpoint opens a flow (no continuation token).
    pub fn is_start(self) -> bool {
        matches!(
            self,
            Endpoint::Initiate | Endpoint::SignUpStart | Endpoint::ResetStart
        )
    }

    /// Whether this endpoint may continue a flow that is at `state`.
    pub fn continues(self, state: &FlowState) -> bool {
        let kind = state.common().kind;
        let step = state.step_name();
        let after = match state {
            FlowState::ExpectTokenRequest(s) => Some(s.after),
            _ => None,
        };
        match self {
            Endpoint::Initiate | Endpoint::SignUpStart | Endpoint::ResetStart => false,
            Endpoint::Challenge => matches!(
                step,
                "signInExpectChallenge"
                    | "signInExpectPassword"
                    | "signInExpectCode"
                    | "expectMfaMethod"
                    | "expectMfaCode"
            ),
            Endpoint::Token => matches!(
                step,
                "signInExpectPassword"
                    | "signInExpectCode"
                    | "expectMfaCode"
                    | "expectTokenRequest"
            ),
            Endpoint::Introspect => matches!(step, "expectMfaMethod" | "expectMfaCode"),
            Endpoint::SignUpChallenge => {
                kind == FlowKind::SignUp
                    && matches!(
                        step,
                        "signUpExpectChallenge" | "signUpExpectCode" | "signUpExpectPassword"
                    )
            }
            Endpoint::SignUpContinue => {
                kind == FlowKind::SignUp
                    && matches!(
                        step,
                        "signUpExpectCode" | "signUpExpectPassword" | "signUpExpectAttributes"
                    )
            }
            Endpoint::ResetChallenge => {
                kind == FlowKind::PasswordReset
                    && matches!(step, "resetExpectChallenge" | "resetExpectCode")
            }
            Endpoint::ResetContinue => kind == FlowKind::PasswordReset && step == "resetExpectCode",
            Endpoint::ResetSubmit => {
                kind == FlowKind::PasswordReset && step == "resetExpectNewPassword"
            }
            Endpoint::ResetPollCompletion => {
                kind == FlowKind::PasswordReset && after == Some(After::Reset)
            }
            Endpoint::RegisterIntrospect | Endpoint::RegisterChallenge => {
                matches!(step, "expectRegistrationMethod" | "expectRegistrationCode")
            }
            Endpoint::RegisterContinue => {
                step == "expectRegistrationCode" || after == Some(After::Preverified)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for e in Endpoint::ALL {
            let mut parts = e.path().splitn(3, '/');
            let (f, v, o) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            assert_eq!(Endpoint::from_parts(f, v, o), Some(e));
        }
        assert_eq!(Endpoint::from_parts("oauth2", "v2.0", "authorize"), None);
        assert_eq!(Endpoint::from_parts("signup", "v2.0", "start"), None);
        let starts: Vec<Endpoint> = Endpoint::ALL.into_iter().filter(|e| e.is_start()).collect();
        assert_eq!(
            starts,
            vec![
                Endpoint::Initiate,
                Endpoint::SignUpStart,
                Endpoint::ResetStart
            ]
        );
    }
}
