//! `logs` script module: CMTrace log files (client and site-server formats).

pub mod model;
pub mod objects;
pub mod ops;
