//! Values a plan cannot know: ids the service assigns, text a write produces.
//!
//! One typed enum everywhere (plans, script objects, the journal), so "unknown" is never a
//! magic string that could be mistaken for, or collide with, a real value.

use serde::{Serialize, Serializer};
use std::fmt;

/// How an unknown value reads in plans and in script objects.
pub const AFTER_APPLY_TEXT: &str = "(known after apply)";

/// A value that is either known now or only after the write that produces it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Known<T> {
    Value(T),
    /// Produced by a write that a plan does not make.
    #[default]
    AfterApply,
}

impl<T> Known<T> {
    pub fn is_known(&self) -> bool {
        matches!(self, Known::Value(_))
    }
    pub fn as_ref(&self) -> Known<&T> {
        match self {
            Known::Value(v) => Known::Value(v),
            Known::AfterApply => Known::AfterApply,
        }
    }
    pub fn value(&self) -> Option<&T> {
        match self {
            Known::Value(v) => Some(v),
            Known::AfterApply => None,
        }
    }
    pub fn into_option(self) -> Option<T> {
        match self {
            Known::Value(v) => Some(v),
            Known::AfterApply => None,
        }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Known<U> {
        match self {
            Known::Value(v) => Known::Value(f(v)),
            Known::AfterApply => Known::AfterApply,
        }
    }
}

impl<T> From<Option<T>> for Known<T> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Known::AfterApply, Known::Value)
    }
}

impl Known<String> {
    /// The value, or `(known after apply)`: what a script or a plan line shows.
    pub fn text(&self) -> &str {
        match self {
            Known::Value(v) => v,
            Known::AfterApply => AFTER_APPLY_TEXT,
        }
    }
    /// The value for a script: a string, or `(known after apply)` in a plan.
    pub fn to_dynamic(&self) -> rhai::Dynamic {
        rhai::Dynamic::from(self.text().to_string())
    }
}

impl<T: fmt::Display> fmt::Display for Known<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Known::Value(v) => v.fmt(f),
            Known::AfterApply => f.write_str(AFTER_APPLY_TEXT),
        }
    }
}

/// Serialised as the value itself, or `null` when unknown: JSON consumers read the
/// separate `after_unknown` flag of a field change rather than a sentinel string.
impl<T: Serialize> Serialize for Known<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Known::Value(v) => v.serialize(s),
            Known::AfterApply => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json() {
        let k: Known<String> = Known::AfterApply;
        assert_eq!(k.text(), AFTER_APPLY_TEXT);
        assert_eq!(serde_json::to_value(&k).unwrap(), serde_json::Value::Null);
        let k = Known::Value("abc".to_string());
        assert_eq!(k.to_string(), "abc");
        assert_eq!(serde_json::to_value(&k).unwrap(), "abc");
        assert_eq!(Known::from(Some(1)).value(), Some(&1));
    }
}
