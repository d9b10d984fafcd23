//! Local file writes shared by every module: atomic, with the mode set at creation.
//! Only the write path reaches them (through `cloud::access::Writer::write_file`).

use crate::error::{ModuleError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` atomically: a temporary file in the same folder, created with
/// `mode`, then renamed over `path`. On any error the temporary file is removed, so no
/// half-written file is left behind.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| ModuleError::io_at("create folder", &dir, &e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let result = (|| -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(ModuleError::io_at("write", path, &e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    const PRIVATE_MODE: u32 = 0o600;

    #[test]
    fn atomic_write_sets_mode_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/k.key");
        write_atomic(&p, b"abc", PRIVATE_MODE).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(m, 0o600);
        }
        // overwrite keeps the mode of the new file
        write_atomic(&p, b"xyz", PRIVATE_MODE).unwrap();
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
        // a write into a path that is a folder fails and leaves nothing behind
        let d = dir.path().join("adir");
        std::fs::create_dir(&d).unwrap();
        assert!(write_atomic(&d, b"x", PRIVATE_MODE).is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
