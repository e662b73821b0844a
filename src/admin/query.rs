//! OData query options on the admin API's Graph collections (policies, named locations,
//! applications, listeners, user flows), which are served whole.
//!
//! Graph narrows or reorders a list by `$filter`, `$search`, `$orderby` and `$skip`; this
//! service implements none of them there. Ignoring one would answer with every item, and
//! a script written for Graph (`GET applications?$filter=appId eq '…'`, then act on
//! `value[0]`) would silently act on the wrong item. So they are refused with a 400 that
//! names the option, as `GET /users` does. Options that only shape or bound the answer
//! (`$select`, `$top`, `$count`, `$expand`) are ignored: the whole item list is a correct,
//! if larger, answer. Graph accepts the options without their `$` and in any case, so the
//! check does too.

use crate::error::ErrorBody;

/// Options that choose or order the items of a list.
const NARROWING: &[&str] = &["filter", "search", "orderby", "skip", "skiptoken"];

/// The refusal for the first query option in `keys` that this service would ignore at
/// the cost of a wrong answer; `what` is the resource's path (`applications`).
pub fn refuse_narrowing<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    what: &str,
) -> Result<(), ErrorBody> {
    for key in keys {
        let bare = key.strip_prefix('$').unwrap_or(key).to_ascii_lowercase();
        if NARROWING.contains(&bare.as_str()) {
            return Err(ErrorBody::new(
                "admin.invalid_query",
                format!(
                    "`{key}` is not supported on `{what}`: the whole list is returned, so select \
                     the items you need from it (or GET one by its id)"
                ),
            )
            .at(key));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_that_would_change_which_items_are_refused_with_their_name() {
        for key in [
            "$filter",
            "filter",
            "$FILTER",
            "$search",
            "$orderby",
            "$skip",
            "$skiptoken",
        ] {
            let e = refuse_narrowing([key], "applications").unwrap_err();
            assert_eq!(e.code, "admin.invalid_query", "{key}");
            assert_eq!(e.target.as_deref(), Some(key));
            assert!(e.message.contains(key) && e.message.contains("applications"));
        }
    }

    #[test]
    fn options_that_only_shape_the_answer_are_ignored() {
        assert!(
            refuse_narrowing(["$select", "$top", "$count", "$expand", "x"], "policies").is_ok()
        );
        assert!(refuse_narrowing([], "policies").is_ok());
    }
}
