//! GJSON 1.18 (tidwall/gjson), the path language of `--transform`, as the
//! official CLI runs it: paths walk the raw JSON text and results keep the
//! bytes they were found as. `check` refuses malformed paths before any
//! request is sent; `eval` walks them (with `paths` reading components and
//! `wildcard` matching keys); `modifiers` are the `@name` functions.

mod check;
mod eval;
mod modifiers;
mod paths;
mod value;
mod wildcard;

pub use check::{Path, parse};
pub use modifiers::NAMES as MODIFIERS;
pub use value::{Kind, Res};

/// The path applied to `json`; `None` when it matches nothing.
pub fn get<'j>(json: &'j str, path: &Path) -> Option<Res<'j>> {
    let found = eval::get(json.as_bytes(), path.as_str().as_bytes());
    found.exists().then_some(found)
}

/// The first JSON value of `text` as GJSON's `Parse` reads it: an array or
/// object runs from its opening bracket to the end of the text.
pub fn parse_value(text: &[u8]) -> Res<'_> {
    value::parse(text)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod check_tests;
#[cfg(test)]
mod tests;
