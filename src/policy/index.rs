//! The compiled index: for every fact a sign-in can have, the set of policies whose
//! condition accepts it, so applicability is a few bit-set operations per 64 policies.
//!
//! - enumerated facts (platform, client app, risk levels, transfer method) have one
//!   precomputed set per value, unconfigured conditions included;
//! - ids (users, groups, roles, apps, auth contexts) map to the policies that include or
//!   exclude them, so a user in 50 groups costs 50 lookups however many policies exist;
//! - named locations are matched once per sign-in, then mapped to policies;
//! - the rare per-policy conditions (device filters, guest types) are evaluated directly.

use super::bits::{self, Bits};
use super::facts::{Facts, Target, lower};
use super::grant::CompiledGrant;
use super::model::{
    AppRef, ClientAppType, ExternalTenants, GraphEnum, GuestType, GuestsOrExternalUsers,
    LocationRef, NamedLocation, Platform, Policy, RiskLevel, TransferMethod, UserAction, UserRef,
};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Why a policy does not apply: the Graph `analysisReasons` values, in the order conditions
/// are checked (the first failing one is reported, as the What If tool does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The user is not included, or is excluded.
    Users,
    /// The application is not targeted, or is excluded.
    Application,
    /// The user action is not targeted.
    UserActions,
    /// No requested authentication context is targeted.
    AuthenticationContext,
    /// The device platform is not included, or is excluded.
    DevicePlatform,
    /// The device filter rejects the device.
    Devices,
    /// The client app type is not selected.
    ClientApps,
    /// The location is not included, or is excluded.
    Location,
    /// The sign-in risk level is not selected.
    SignInRisk,
    /// The user risk level is not selected.
    UserRisk,
    /// The authentication flow is not selected.
    AuthenticationFlow,
    /// The policy is disabled.
    PolicyNotEnabled,
}

impl Reason {
    /// The Graph spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Users => "users",
            Reason::Application => "application",
            Reason::UserActions => "userActions",
            Reason::AuthenticationContext => "authenticationContext",
            Reason::DevicePlatform => "devicePlatform",
            Reason::Devices => "devices",
            Reason::ClientApps => "clientApps",
            Reason::Location => "location",
            Reason::SignInRisk => "signInRisk",
            Reason::UserRisk => "userRisk",
            Reason::AuthenticationFlow => "authenticationFlow",
            Reason::PolicyNotEnabled => "policyNotEnabled",
        }
    }
}

/// A small, fast, non-cryptographic string hasher (FxHash). Keys are ids an admin
/// configured; sign-in input only looks keys up, so it cannot flood a bucket.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<V> = HashMap<Box<str>, V, BuildHasherDefault<FxHasher>>;

/// The policies that include and exclude one id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    incl: Vec<u32>,
    excl: Vec<u32>,
}

fn entry<'m>(map: &'m mut FastMap<Entry>, id: &str) -> &'m mut Entry {
    map.entry(Box::from(id)).or_default()
}

fn pos<T: GraphEnum + PartialEq>(v: T) -> usize {
    T::MEMBERS.iter().position(|(m, _)| *m == v).unwrap_or(0)
}

/// The compiled index of a policy set.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    words: usize,
    all: Bits,
    user_all: Bits,
    user_guests: Bits,
    excl_guests: Bits,
    users: FastMap<Entry>,
    groups: FastMap<Entry>,
    roles: FastMap<Entry>,
    guest_rules: Vec<(u32, bool)>,
    app_all: Bits,
    apps: FastMap<Entry>,
    actions: Vec<Bits>,
    contexts: FastMap<Vec<u32>>,
    resource_reason: Vec<Reason>,
    platform: Vec<Bits>,
    client: Vec<Bits>,
    sign_in_risk: Vec<Bits>,
    user_risk: Vec<Bits>,
    flow: Vec<Bits>,
    device_rules: Vec<u32>,
    loc_free: Bits,
    loc_incl_all: Bits,
    loc_excl_all: Bits,
    loc_incl_trusted: Bits,
    loc_excl_trusted: Bits,
    loc_incl: Vec<Vec<u32>>,
    loc_excl: Vec<Vec<u32>>,
    pub(crate) grants: Vec<CompiledGrant>,
}

impl Index {
    /// Builds the index. `locations` must hold every location the policies name.
    pub(crate) fn build(policies: &[Policy], locations: &[NamedLocation]) -> Index {
        let words = policies.len().div_ceil(64);
        let e = || Bits::empty(words);
        let per = |n: usize| vec![Bits::empty(words); n];
        let mut x = Index {
            words,
            all: e(),
            user_all: e(),
            user_guests: e(),
            excl_guests: e(),
            users: FastMap::default(),
            groups: FastMap::default(),
            roles: FastMap::default(),
            guest_rules: Vec::new(),
            app_all: e(),
            apps: FastMap::default(),
            actions: per(UserAction::MEMBERS.len()),
            contexts: FastMap::default(),
            resource_reason: Vec::with_capacity(policies.len()),
            platform: per(Platform::MEMBERS.len()),
            client: per(ClientAppType::MEMBERS.len()),
            sign_in_risk: per(RiskLevel::MEMBERS.len()),
            user_risk: per(RiskLevel::MEMBERS.len()),
            flow: per(TransferMethod::MEMBERS.len().saturating_add(1)),
            device_rules: Vec::new(),
            loc_free: e(),
            loc_incl_all: e(),
            loc_excl_all: e(),
            loc_incl_trusted: e(),
            loc_excl_trusted: e(),
            loc_incl: vec![Vec::new(); locations.len()],
            loc_excl: vec![Vec::new(); locations.len()],
            grants: policies.iter().map(CompiledGrant::new).collect(),
        };
        let loc_pos: FastMap<usize> = locations
            .iter()
            .enumerate()
            .filter_map(|(j, l)| l.id.as_deref().map(|id| (Box::from(id), j)))
            .collect();
        for (i, policy) in policies.iter().enumerate() {
            let n = u32::try_from(i).unwrap_or(u32::MAX);
            x.all.insert(i);
            x.add_users(i, n, policy);
            x.add_resources(i, n, policy);
            x.add_enumerated(i, policy);
            if policy.conditions.device_filter.is_some() {
                x.device_rules.push(n);
            }
            x.add_locations(i, n, policy, &loc_pos);
        }
        x
    }

    fn add_users(&mut self, i: usize, n: u32, policy: &Policy) {
        let u = &policy.conditions.users;
        for (refs, include) in [(&u.include_users, true), (&u.exclude_users, false)] {
            for r in refs {
                match (r, include) {
                    (UserRef::All, true) => self.user_all.insert(i),
                    (UserRef::GuestsOrExternalUsers, true) => self.user_guests.insert(i),
                    (UserRef::GuestsOrExternalUsers, false) => self.excl_guests.insert(i),
                    (UserRef::Id(id), true) => entry(&mut self.users, id).incl.push(n),
                    (UserRef::Id(id), false) => entry(&mut self.users, id).excl.push(n),
                    (UserRef::None | UserRef::All, _) => {}
                }
            }
        }
        for (map, incl, excl) in [
            (&mut self.groups, &u.include_groups, &u.exclude_groups),
            (&mut self.roles, &u.include_roles, &u.exclude_roles),
        ] {
            incl.iter().for_each(|id| entry(map, id).incl.push(n));
            excl.iter().for_each(|id| entry(map, id).excl.push(n));
        }
        if u.include_guests_or_external_users.is_some() {
            self.guest_rules.push((n, true));
        }
        if u.exclude_guests_or_external_users.is_some() {
            self.guest_rules.push((n, false));
        }
    }

    fn add_resources(&mut self, i: usize, n: u32, policy: &Policy) {
        let a = &policy.conditions.applications;
        let reason = if !a.user_actions.is_empty() {
            Reason::UserActions
        } else if !a.auth_contexts.is_empty() {
            Reason::AuthenticationContext
        } else {
            Reason::Application
        };
        self.resource_reason.push(reason);
        for r in &a.include {
            match r {
                AppRef::All => self.app_all.insert(i),
                AppRef::Id(id) => entry(&mut self.apps, id).incl.push(n),
                AppRef::None => {}
            }
        }
        a.exclude
            .iter()
            .for_each(|id| entry(&mut self.apps, id).excl.push(n));
        for action in &a.user_actions {
            if let Some(b) = self.actions.get_mut(pos(*action)) {
                b.insert(i);
            }
        }
        for c in &a.auth_contexts {
            self.contexts
                .entry(Box::from(c.as_str()))
                .or_default()
                .push(n);
        }
    }

    fn add_enumerated(&mut self, i: usize, policy: &Policy) {
        let c = &policy.conditions;
        for (slot, p) in Platform::MEMBERS.iter().map(|(p, _)| *p).enumerate() {
            // The `all` slot doubles as "unknown platform": only `all` includes it.
            let ok = c.platforms.as_ref().is_none_or(|pl| {
                let has = |list: &[Platform]| list.contains(&Platform::All) || list.contains(&p);
                has(&pl.include) && !has(&pl.exclude)
            });
            set_if(&mut self.platform, slot, i, ok);
        }
        for (slot, t) in ClientAppType::MEMBERS.iter().map(|(t, _)| *t).enumerate() {
            // The `all` slot doubles as "unknown client": only `all` (or no condition) accepts it.
            let list = &c.client_app_types;
            let ok = list.is_empty()
                || list.contains(&ClientAppType::All)
                || (t != ClientAppType::All && list.contains(&t))
                || (t == ClientAppType::EasSupported
                    && list.contains(&ClientAppType::ExchangeActiveSync));
            set_if(&mut self.client, slot, i, ok);
        }
        for (slot, r) in RiskLevel::MEMBERS.iter().map(|(r, _)| *r).enumerate() {
            let s = &c.sign_in_risk_levels;
            set_if(
                &mut self.sign_in_risk,
                slot,
                i,
                s.is_empty() || s.contains(&r),
            );
            let u = &c.user_risk_levels;
            set_if(&mut self.user_risk, slot, i, u.is_empty() || u.contains(&r));
        }
        let methods = &c.transfer_methods;
        for (slot, m) in TransferMethod::MEMBERS.iter().map(|(m, _)| *m).enumerate() {
            set_if(
                &mut self.flow,
                slot,
                i,
                methods.is_empty() || methods.contains(&m),
            );
        }
        set_if(
            &mut self.flow,
            TransferMethod::MEMBERS.len(),
            i,
            methods.is_empty(),
        );
    }

    fn add_locations(&mut self, i: usize, n: u32, policy: &Policy, loc_pos: &FastMap<usize>) {
        let Some(locs) = &policy.conditions.locations else {
            self.loc_free.insert(i);
            return;
        };
        for (refs, include) in [(&locs.include, true), (&locs.exclude, false)] {
            for r in refs {
                match (r, include) {
                    (LocationRef::All, true) => self.loc_incl_all.insert(i),
                    (LocationRef::All, false) => self.loc_excl_all.insert(i),
                    (LocationRef::AllTrusted, true) => self.loc_incl_trusted.insert(i),
                    (LocationRef::AllTrusted, false) => self.loc_excl_trusted.insert(i),
                    (LocationRef::Id(id), _) => {
                        let lists = if include {
                            &mut self.loc_incl
                        } else {
                            &mut self.loc_excl
                        };
                        if let Some(list) = loc_pos.get(id.as_str()).and_then(|j| lists.get_mut(*j))
                        {
                            list.push(n);
                        }
                    }
                }
            }
        }
    }
}

fn set_if(sets: &mut [Bits], slot: usize, i: usize, ok: bool) {
    if let (true, Some(b)) = (ok, sets.get_mut(slot)) {
        b.insert(i);
    }
}

fn set_all(words: &mut [u64], list: &[u32]) {
    for n in list {
        bits::set(words, *n as usize);
    }
}

fn clear_all(words: &mut [u64], list: &[u32]) {
    for n in list {
        if let Some(w) = words.get_mut(*n as usize / 64) {
            *w &= !(1u64 << (*n % 64));
        }
    }
}

/// Whether a guest of type `t` from `tenant` is selected by `g`. Internal guests are
/// accounts of this tenant, so the external-tenant list does not apply to them.
pub fn guest_selected(g: &GuestsOrExternalUsers, t: GuestType, tenant: Option<&str>) -> bool {
    g.types.contains(&t)
        && (t == GuestType::InternalGuest
            || match &g.tenants {
                ExternalTenants::All => true,
                ExternalTenants::Enumerated(list) => {
                    tenant.is_some_and(|x| list.iter().any(|m| m == x))
                }
            })
}

/// Which policies apply to one sign-in, and why the others do not.
pub(crate) struct Applicability<'i> {
    words: usize,
    /// users | resource | devices | location | applicable, `words` each.
    scratch: Vec<u64>,
    platform: &'i [u64],
    client: &'i [u64],
    sign_in_risk: &'i [u64],
    user_risk: &'i [u64],
    flow: &'i [u64],
    resource_reason: &'i [Reason],
}

impl Index {
    /// Evaluates every condition of every policy against `f`.
    pub(crate) fn applicability<'i>(
        &'i self,
        policies: &[Policy],
        locations: &[NamedLocation],
        f: &Facts<'_>,
    ) -> Applicability<'i> {
        let w = self.words;
        let mut scratch = vec![0u64; w.saturating_mul(6)];
        let (users, rest) = scratch.split_at_mut(w);
        let (resource, rest) = rest.split_at_mut(w);
        let (devices, rest) = rest.split_at_mut(w);
        let (location, rest) = rest.split_at_mut(w);
        let (excluded, applicable) = rest.split_at_mut(w);

        // Users: included by any rule, then minus every exclusion.
        bits::or(users, self.user_all.words());
        let lookup = |map: &FastMap<Entry>, id: &str, users: &mut [u64], excluded: &mut [u64]| {
            if let Some(e) = map.get(&*lower(id)) {
                set_all(users, &e.incl);
                set_all(excluded, &e.excl);
            }
        };
        // Skipping empty maps saves hashing every group of a user no policy names.
        if !self.users.is_empty() {
            lookup(&self.users, &f.user_id, users, excluded);
        }
        if !self.groups.is_empty() {
            f.groups
                .iter()
                .for_each(|g| lookup(&self.groups, g, users, excluded));
        }
        if !self.roles.is_empty() {
            f.roles
                .iter()
                .for_each(|r| lookup(&self.roles, r, users, excluded));
        }
        if let Some(t) = f.guest {
            bits::or(users, self.user_guests.words());
            bits::or(excluded, self.excl_guests.words());
            for (n, include) in &self.guest_rules {
                let u = policies.get(*n as usize).map(|p| &p.conditions.users);
                let rule = u.and_then(|u| {
                    if *include {
                        &u.include_guests_or_external_users
                    } else {
                        &u.exclude_guests_or_external_users
                    }
                    .as_ref()
                });
                if rule.is_some_and(|g| guest_selected(g, t, f.external_tenant.as_deref())) {
                    bits::set(
                        if *include {
                            &mut *users
                        } else {
                            &mut *excluded
                        },
                        *n as usize,
                    );
                }
            }
        }
        bits::and_not(users, excluded);

        // Target resource: the app (minus exclusions), the user action, auth contexts.
        match &f.target {
            Target::App(Some(app)) => {
                bits::or(resource, self.app_all.words());
                if let Some(e) = self.apps.get(&**app) {
                    set_all(resource, &e.incl);
                    clear_all(resource, &e.excl);
                }
            }
            Target::Action(Some(a)) => {
                if let Some(b) = self.actions.get(pos(*a)) {
                    bits::or(resource, b.words());
                }
            }
            Target::App(None) | Target::Action(None) => {}
        }
        for c in f.contexts {
            if let Some(list) = self.contexts.get(&*lower(c)) {
                set_all(resource, list);
            }
        }

        // Device filters: `include` applies to matching devices, `exclude` to the others.
        bits::or(devices, self.all.words());
        for n in &self.device_rules {
            let filter = policies
                .get(*n as usize)
                .and_then(|p| p.conditions.device_filter.as_ref());
            if filter.is_some_and(|d| d.rule.matches(f.device) != d.include) {
                clear_all(devices, &[*n]);
            }
        }

        // Locations: match each named location once, then map to policies.
        excluded.fill(0);
        bits::or(location, self.loc_free.words());
        bits::or(location, self.loc_incl_all.words());
        bits::or(excluded, self.loc_excl_all.words());
        let mut trusted = false;
        if self.loc_free != self.all {
            for (j, loc) in locations.iter().enumerate() {
                if loc.contains(f.ip, f.country.as_deref()) {
                    trusted |= loc.is_trusted();
                    set_all(location, self.loc_incl.get(j).map_or(&[], Vec::as_slice));
                    set_all(excluded, self.loc_excl.get(j).map_or(&[], Vec::as_slice));
                }
            }
        }
        if trusted {
            bits::or(location, self.loc_incl_trusted.words());
            bits::or(excluded, self.loc_excl_trusted.words());
        }
        bits::and_not(location, excluded);

        let pick = |sets: &'i [Bits], slot: usize| sets.get(slot).map_or(&[][..], Bits::words);
        let platform = pick(&self.platform, f.platform.map_or(pos(Platform::All), pos));
        let client = pick(&self.client, f.client.map_or(pos(ClientAppType::All), pos));
        let sign_in_risk = pick(&self.sign_in_risk, pos(f.sign_in_risk));
        let user_risk = pick(&self.user_risk, pos(f.user_risk));
        let flow = pick(
            &self.flow,
            f.flow.map_or(TransferMethod::MEMBERS.len(), pos),
        );
        applicable.copy_from_slice(users);
        for s in [
            &*resource,
            &*devices,
            &*location,
            platform,
            client,
            sign_in_risk,
            user_risk,
            flow,
        ] {
            bits::and(applicable, s);
        }
        Applicability {
            words: w,
            scratch,
            platform,
            client,
            sign_in_risk,
            user_risk,
            flow,
            resource_reason: &self.resource_reason,
        }
    }
}

impl Applicability<'_> {
    fn part(&self, k: usize) -> &[u64] {
        let start = k.saturating_mul(self.words);
        self.scratch
            .get(start..start.saturating_add(self.words))
            .unwrap_or_default()
    }

    /// `None` when policy `i` applies; otherwise the first condition that did not match.
    pub(crate) fn reason(&self, i: usize) -> Option<Reason> {
        if bits::words_contain(self.part(5), i) {
            return None;
        }
        let resource = self
            .resource_reason
            .get(i)
            .copied()
            .unwrap_or(Reason::Application);
        let checks = [
            (self.part(0), Reason::Users),
            (self.part(1), resource),
            (self.platform, Reason::DevicePlatform),
            (self.part(2), Reason::Devices),
            (self.client, Reason::ClientApps),
            (self.part(3), Reason::Location),
            (self.sign_in_risk, Reason::SignInRisk),
            (self.user_risk, Reason::UserRisk),
            (self.flow, Reason::AuthenticationFlow),
        ];
        Some(
            checks
                .iter()
                .find(|(set, _)| !bits::words_contain(set, i))
                .map_or(Reason::Users, |(_, r)| *r),
        )
    }
}
