//! `cert` script module (bindings only; see model.rs and ops.rs).

use rhai::plugin::*;

#[export_module]
pub mod api {}

pub fn module() -> rhai::Module {
    exported_module!(api)
}

pub fn register_types(_engine: &mut rhai::Engine) {}
