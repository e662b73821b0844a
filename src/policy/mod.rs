//! Conditional Access: placeholder until the policy engine lands.
