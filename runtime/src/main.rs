//! `comgmt`: run co-management runbooks written in Rhai.

mod engine;

fn main() {
    let _engine = engine::new_engine();
}
