//! Grant controls and sign-in frequency of one applying policy, judged against the methods
//! the session has satisfied and when.
//!
//! Each control is satisfied, still needed (the user can act: MFA, a meetable strength, a
//! password change, reauthentication) or unmeetable here (block, device and app controls
//! the sign-in cannot prove, strengths with no combination of our methods). `AND` needs
//! every control; `OR` needs one, and when none is met the first needed one is asked for,
//! in the documented prompt order (MFA and strengths before password change).
//!
//! Legacy clients (Exchange ActiveSync, `easSupported`, `other`: IMAP, POP, SMTP...) cannot
//! show a prompt, so for them MFA, authentication strengths and password change are
//! unmeetable rather than needed: the reference's "they are blocked by Conditional Access
//! grant controls, like requiring MFA" (§2.9). An `OR` with a control they can meet (a
//! compliant device) still grants.

use super::facts::Facts;
use super::model::{BuiltInControl, ClientAppType, Policy, SignInFrequency};
use super::signin::SatisfiedMethod;
use super::strength::method_bit;
use crate::time::Timestamp;

/// A control the user can still satisfy in this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need<'a> {
    /// Two distinct factors.
    Mfa,
    /// One of these method sets (bit masks).
    Strength(&'a [u8]),
    /// A password change.
    PasswordChange,
    /// Sign-in frequency lapsed: authenticate again.
    Reauthenticate,
}

impl Need<'_> {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Need::Mfa => "mfa",
            Need::Strength(_) => "authenticationStrength",
            Need::PasswordChange => "passwordChange",
            Need::Reauthenticate => "signInFrequency",
        }
    }
}

/// A short list kept inline (no allocation on the decision path); pushes beyond `N` are
/// dropped, and `N` is sized to the number of controls a policy can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Few<T: Copy, const N: usize> {
    items: [Option<T>; N],
    len: usize,
}

impl<T: Copy, const N: usize> Few<T, N> {
    pub(crate) fn new() -> Self {
        Few {
            items: [None; N],
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, item: T) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(item);
            self.len = self.len.saturating_add(1);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.items.iter().flatten().copied()
    }
}

/// Unmet controls the user can act on (at most mfa, strength, password change, reauth).
pub(crate) type Needs<'a> = Few<Need<'a>, 4>;
/// Names of unmet controls (at most strength, four device/app controls, mfa, password
/// change and sign-in frequency).
pub(crate) type Names = Few<&'static str, 8>;

/// The result of one applying policy's controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome<'a> {
    /// Every control is met.
    Satisfied,
    /// The user must act (report-only: `reportOnlyInterrupted`).
    Interrupt(Needs<'a>),
    /// Blocked, or a control can never be met here; all unmet control names.
    Fail(Names),
}

/// A policy's grant and session controls, prepared for evaluation.
#[derive(Debug, Clone)]
pub(crate) struct CompiledGrant {
    any: bool,
    block: bool,
    mfa: bool,
    /// The meetable combinations of the strength (empty: unmeetable).
    strength: Option<Vec<u8>>,
    password_change: bool,
    device: Vec<BuiltInControl>,
    sif: Option<SignInFrequency>,
}

impl CompiledGrant {
    pub(crate) fn new(policy: &Policy) -> CompiledGrant {
        let g = &policy.grant;
        let has = |c| g.built_in.contains(&c);
        CompiledGrant {
            any: g.any,
            block: has(BuiltInControl::Block),
            mfa: has(BuiltInControl::Mfa),
            strength: g.strength.as_ref().map(|s| s.meetable()),
            password_change: has(BuiltInControl::PasswordChange),
            device: g
                .built_in
                .iter()
                .copied()
                .filter(|c| {
                    matches!(
                        c,
                        BuiltInControl::CompliantDevice
                            | BuiltInControl::DomainJoinedDevice
                            | BuiltInControl::ApprovedApplication
                            | BuiltInControl::CompliantApplication
                    )
                })
                .collect(),
            sif: policy.sign_in_frequency,
        }
    }

    /// Judges the controls of an applying policy.
    pub(crate) fn evaluate(&self, f: &Facts<'_>, s: &Session<'_>) -> Outcome<'_> {
        if self.block {
            let mut names = Names::new();
            names.push("block");
            return Outcome::Fail(names);
        }
        let (methods, reauthenticate) = match self.sif {
            None => (s.all, false),
            Some(sif) if sif.secondary_only => (s.fresh(sif) | s.first, false),
            // Both factors expire: the first factor itself must have been repeated within
            // the window, so a fresh second factor does not keep a stale sign-in alive.
            Some(sif) => {
                let fresh = s.fresh(sif);
                (fresh, fresh & s.first == 0)
            }
        };
        let legacy = f.client.is_some_and(cannot_prompt);
        let mut met = 0usize;
        let mut needs = Needs::new();
        let mut hard = Names::new();
        if self.mfa {
            if legacy {
                hard.push(Need::Mfa.name());
            } else if methods.count_ones() >= 2 {
                met = met.saturating_add(1);
            } else {
                needs.push(Need::Mfa);
            }
        }
        if let Some(combos) = &self.strength {
            if legacy || combos.is_empty() {
                hard.push("authenticationStrength");
            } else if combos.iter().any(|c| c & methods == *c) {
                met = met.saturating_add(1);
            } else {
                needs.push(Need::Strength(combos));
            }
        }
        if self.password_change {
            if legacy {
                hard.push(Need::PasswordChange.name());
            } else if f.password_changed {
                met = met.saturating_add(1);
            } else {
                needs.push(Need::PasswordChange);
            }
        }
        for control in &self.device {
            let proven = match control {
                BuiltInControl::CompliantDevice => f.device_compliant(),
                BuiltInControl::DomainJoinedDevice => f.device_domain_joined(),
                _ => false,
            };
            if proven {
                met = met.saturating_add(1);
            } else {
                hard.push(control_name(*control));
            }
        }
        let controls = met.saturating_add(needs.len).saturating_add(hard.len);
        let mut needs = match (controls, self.any) {
            (0, _) => Needs::new(),
            // OR: one met control grants; else ask for the first the user can do.
            (_, true) if met > 0 => Needs::new(),
            (_, true) if !needs.is_empty() => {
                let mut first = Needs::new();
                needs.iter().take(1).for_each(|n| first.push(n));
                first
            }
            // AND: any unmeetable control fails the policy.
            (_, _) if !hard.is_empty() => {
                needs.iter().for_each(|n| hard.push(n.name()));
                if reauthenticate {
                    hard.push(Need::Reauthenticate.name());
                }
                return Outcome::Fail(hard);
            }
            (_, _) => needs,
        };
        if reauthenticate {
            needs.push(Need::Reauthenticate);
        }
        if needs.is_empty() {
            Outcome::Satisfied
        } else {
            Outcome::Interrupt(needs)
        }
    }
}

/// Legacy-authentication clients: they send a password and nothing else, so a control
/// that needs an interactive prompt can never be met through them.
fn cannot_prompt(client: ClientAppType) -> bool {
    matches!(
        client,
        ClientAppType::ExchangeActiveSync | ClientAppType::EasSupported | ClientAppType::Other
    )
}

fn control_name(c: BuiltInControl) -> &'static str {
    use super::model::GraphEnum;
    c.as_str()
}

/// The satisfied methods as bit sets, computed once per evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Session<'a> {
    satisfied: &'a [SatisfiedMethod],
    now: Timestamp,
    /// Every method satisfied in the session.
    pub(crate) all: u8,
    /// The first factor: the earliest satisfied method (the first listed on a tie).
    pub(crate) first: u8,
}

impl<'a> Session<'a> {
    pub(crate) fn new(satisfied: &'a [SatisfiedMethod], now: Timestamp) -> Session<'a> {
        Session {
            satisfied,
            now,
            all: satisfied.iter().fold(0, |m, s| m | method_bit(s.method)),
            first: satisfied
                .iter()
                .min_by_key(|s| s.at)
                .map_or(0, |s| method_bit(s.method)),
        }
    }

    /// The methods satisfied within the frequency window (a timestamp in the future, clock
    /// skew, counts as now).
    pub(crate) fn fresh(&self, sif: SignInFrequency) -> u8 {
        self.satisfied
            .iter()
            .filter(|s| self.now.since(s.at) <= sif.window)
            .fold(0, |m, s| m | method_bit(s.method))
    }
}
