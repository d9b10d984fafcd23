//! One run at a time per working directory: `.comgmt/` holds the emulator state, the
//! journal and (next to it) the key files a run writes, so two runs there at once could
//! both "create" a key or corrupt the state. A run holds an exclusive lock on
//! `.comgmt/run.lock` for its whole life; a plan holds a shared one (several plans may
//! read at once), and takes none when `.comgmt/` does not exist (a plan creates nothing).
//! The operating system drops the lock when the process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "run.lock";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// `run` and `repl`: they write.
    Exclusive,
    /// `plan`: reads only.
    Shared,
}

/// The held lock; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Take the lock in `state_dir`, or say who holds it.
pub fn acquire(state_dir: &Path, kind: LockKind) -> Result<Option<RunLock>, String> {
    let path = state_dir.join(LOCK_FILE);
    let file = match kind {
        LockKind::Shared if !path.exists() => return Ok(None),
        LockKind::Shared => OpenOptions::new().read(true).open(&path),
        LockKind::Exclusive => std::fs::create_dir_all(state_dir).and_then(|()| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        }),
    }
    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let taken = match kind {
        LockKind::Exclusive => file.try_lock(),
        LockKind::Shared => file.try_lock_shared(),
    };
    match taken {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(held_by(&path)),
        Err(TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", path.display())),
    }
    if kind == LockKind::Exclusive {
        // Who holds it, for the message another run shows; the lock is what counts.
        let mut f = &file;
        let _ = f.set_len(0);
        let _ = writeln!(
            f,
            "pid {} since {}",
            std::process::id(),
            comgmt_stdlib::journal::now_rfc3339()
        );
    }
    Ok(Some(RunLock { _file: file }))
}

fn held_by(path: &PathBuf) -> String {
    let who = std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    format!(
        "another comgmt run is using this folder{who}: wait for it to finish, or run from another folder \
         (each folder keeps its own .comgmt/ state, journal and key files)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_and_plans_share() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".comgmt");
        assert!(acquire(&state, LockKind::Shared).unwrap().is_none());
        assert!(!state.exists(), "a plan must not create the folder");
        let first = acquire(&state, LockKind::Exclusive).unwrap();
        let e = acquire(&state, LockKind::Exclusive).unwrap_err();
        assert!(
            e.contains("another comgmt run is using this folder (pid "),
            "{e}"
        );
        assert!(acquire(&state, LockKind::Shared).is_err());
        drop(first);
        let a = acquire(&state, LockKind::Shared).unwrap();
        let b = acquire(&state, LockKind::Shared).unwrap();
        assert!(a.is_some() && b.is_some());
        assert!(acquire(&state, LockKind::Exclusive).is_err());
    }
}
