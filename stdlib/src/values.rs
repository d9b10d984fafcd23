//! Rust values as script values, shared by the bindings.

use rhai::{Array, Dynamic};

/// A list of strings as a script array.
pub fn strings<S: Into<String>>(v: impl IntoIterator<Item = S>) -> Array {
    v.into_iter().map(|s| Dynamic::from(s.into())).collect()
}

/// `Some(x)` as `x`, `None` as `()`.
pub fn optional<T: Clone + Send + Sync + 'static>(v: Option<T>) -> Dynamic {
    v.map(Dynamic::from).unwrap_or(Dynamic::UNIT)
}

/// Declare a script-visible type and the one line `comgmt doc` shows for it.
pub fn document_type<T: rhai::Variant + Clone>(types: &mut rhai::Module, name: &str, doc: &str) {
    types.set_custom_type_with_comments::<T>(name, &[&format!("/// {doc}")]);
}
