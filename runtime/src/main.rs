//! `comgmt`: run co-management runbooks written in Rhai. Everything lives in the library;
//! this only turns its answer into the process exit code.

fn main() {
    std::process::exit(comgmt::cli::main());
}
