//! Pure OpenID Connect pieces the Worker serves (work in progress).
