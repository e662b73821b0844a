//! What a handler gets besides the request: the environment and the path's named segments
//! ([`crate::routes`] decides them). It replaces the `worker` crate's `RouteContext`, whose
//! router is rebuilt on every request, with the same accessors.

use worker::{Env, KvStore, ObjectNamespace, Result, Secret, Var};

/// The environment and path parameters of one request.
pub struct Ctx {
    /// The Worker's bindings, variables and secrets.
    pub env: Env,
    params: Vec<(&'static str, String)>,
}

impl Ctx {
    /// For a routed request.
    pub fn new(env: Env, params: Vec<(&'static str, String)>) -> Self {
        Ctx { env, params }
    }

    /// A named path segment (`tenant`, `op`, `key`, `rest`).
    pub fn param(&self, name: &str) -> Option<&String> {
        self.params.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// A secret.
    pub fn secret(&self, binding: &str) -> Result<Secret> {
        self.env.secret(binding)
    }

    /// A plain-text variable.
    pub fn var(&self, binding: &str) -> Result<Var> {
        self.env.var(binding)
    }

    /// A KV namespace.
    pub fn kv(&self, binding: &str) -> Result<KvStore> {
        self.env.kv(binding)
    }

    /// A Durable Object namespace.
    pub fn durable_object(&self, binding: &str) -> Result<ObjectNamespace> {
        self.env.durable_object(binding)
    }
}
