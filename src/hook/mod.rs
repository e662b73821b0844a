//! Standard Webhooks signing for delivery hooks (work in progress).
