//! Sign-up and sign-in flows: placeholder until the flow engine lands.
