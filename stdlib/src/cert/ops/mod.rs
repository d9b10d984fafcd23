//! What the cert module reads and writes: one file resource per file (the key, the
//! request, the PFX, the lab CA and its certificates), each written only through
//! `change::ensure`; `import_cert` and `load_pfx` only read.

mod import;
mod lab_ca;
mod pfx_file;
mod request;

pub use import::{ensure_current, import, missing_issuer, KeySource};
pub use lab_ca::{issue, lab_ca};
pub use pfx_file::{export_pfx, load_pfx};
pub use request::{request, request_paths};
