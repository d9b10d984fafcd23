//! Following a log file as it is written: `logs::wait_for`.
//!
//! The file is reopened on every look, so a writer can rename it away (ConfigMgr rolls
//! `x.log` over to `x.lo_`) and start a new one. A file that is shorter than what was
//! read, or whose first bytes changed, is a new file: it is read again from the start.
//! A file that does not exist yet is waited for.

use crate::error::{ModuleError, Result};
use crate::logs::model::{Encoding, Entry, Format, Parser};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How many first bytes identify a file (they hold its first timestamp).
const HEAD_LEN: usize = 256;
/// The most read in one go.
const CHUNK: usize = 1 << 20;
/// The longest sleep between two checks for cancellation.
const SLICE: Duration = Duration::from_millis(100);

/// A log file read as it grows.
pub struct Follower {
    path: PathBuf,
    encoding: Option<Encoding>,
    /// Bytes read from the file so far.
    offset: u64,
    /// Bytes read that do not make a complete line yet.
    carry: Vec<u8>,
    /// The file's first bytes, to tell a new file from the one being read.
    head: Vec<u8>,
    parser: Parser,
    /// Whether the file existed at some look.
    pub seen: bool,
}

impl Follower {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Follower {
            path: path.into(),
            encoding: None,
            offset: 0,
            carry: Vec::new(),
            head: Vec::new(),
            parser: Parser::new(),
            seen: false,
        }
    }

    fn reset(&mut self) {
        let seen = self.seen;
        *self = Follower::new(std::mem::take(&mut self.path));
        self.seen = seen;
    }

    /// The entries completed since the last look (all of them on the first).
    pub fn poll(&mut self) -> Result<Vec<Entry>> {
        let io = |e: std::io::Error, path: &Path| ModuleError::io_at("read", path, &e);
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.offset > 0 {
                    self.reset();
                }
                return Ok(Vec::new());
            }
            Err(e) => return Err(io(e, &self.path)),
        };
        self.seen = true;
        let len = file.metadata().map_err(|e| io(e, &self.path))?.len();
        if len < self.offset || !self.same_file(&mut file).map_err(|e| io(e, &self.path))? {
            self.reset();
            self.seen = true;
            self.same_file(&mut file).map_err(|e| io(e, &self.path))?;
        }
        file.seek(SeekFrom::Start(self.offset))
            .map_err(|e| io(e, &self.path))?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).map_err(|e| io(e, &self.path))?;
            if n == 0 {
                break;
            }
            self.offset += n as u64;
            self.carry.extend_from_slice(&buf[..n]);
            self.consume(&mut out);
        }
        Ok(out)
    }

    /// The last line when it has no newline yet but already ends like a complete entry
    /// (`>`): some writers end the file without one.
    pub fn unterminated_tail(&self) -> Option<Entry> {
        let enc = self.encoding?;
        if self.carry.is_empty() {
            return None;
        }
        let text = enc.decode(&self.carry);
        if !text.trim_end().ends_with('>') {
            return None;
        }
        let mut parser = self.parser.clone();
        let mut out = Vec::new();
        parser.push_text(&text, &mut out);
        out.into_iter().rev().find(|e| e.format != Format::Raw)
    }

    /// Whether the file still starts with the bytes it started with (and remember more
    /// of them as it grows).
    fn same_file(&mut self, file: &mut File) -> std::io::Result<bool> {
        let mut got = Vec::with_capacity(HEAD_LEN);
        file.seek(SeekFrom::Start(0))?;
        file.by_ref().take(HEAD_LEN as u64).read_to_end(&mut got)?;
        let n = self.head.len().min(got.len());
        if self.head[..n] != got[..n] {
            return Ok(false);
        }
        if got.len() > self.head.len() {
            self.head = got;
        }
        Ok(true)
    }

    /// Parse the complete lines in `carry`.
    fn consume(&mut self, out: &mut Vec<Entry>) {
        let enc = match self.encoding {
            Some(e) => e,
            None => {
                if self.carry.len() < 3 && !self.carry.contains(&b'\n') {
                    return;
                }
                let (e, bom) = Encoding::sniff(&self.carry);
                self.carry.drain(..bom);
                self.encoding = Some(e);
                e
            }
        };
        let n = enc.complete_len(&self.carry);
        if n == 0 {
            return;
        }
        let text = enc.decode(&self.carry[..n]);
        self.carry.drain(..n);
        self.parser.push_text(&text, out);
    }
}

/// How a wait ended.
#[derive(Debug)]
pub enum Waited {
    Found(Entry),
    /// The deadline passed; `file_seen` says whether the file existed at some look.
    TimedOut {
        file_seen: bool,
    },
    /// `cancelled` said so.
    Cancelled,
}

/// Wait until the log at `path` has an entry whose message contains one of `patterns`
/// (entries already there count), looking every `poll`, for up to `timeout`.
/// `cancelled` is asked at least every 100 ms; no sleep goes past the deadline.
pub fn wait_for(
    path: &Path,
    patterns: &[String],
    timeout: Duration,
    poll: Duration,
    mut cancelled: impl FnMut() -> bool,
) -> Result<Waited> {
    let deadline = Instant::now() + timeout;
    let mut follower = Follower::new(path);
    loop {
        if let Some(e) = follower.poll()?.into_iter().find(|e| e.matches(patterns)) {
            return Ok(Waited::Found(e));
        }
        if let Some(e) = follower.unterminated_tail().filter(|e| e.matches(patterns)) {
            return Ok(Waited::Found(e));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Waited::TimedOut {
                file_seen: follower.seen,
            });
        }
        let until = (now + poll).min(deadline);
        loop {
            if cancelled() {
                return Ok(Waited::Cancelled);
            }
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(SLICE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(msg: &str) -> String {
        format!("{msg}  $$<SMS_X><11-26-2025 20:07:12.345+00><thread=1 (0x1)>\r\n")
    }

    fn append(path: &Path, text: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text).unwrap();
    }

    fn messages(v: Vec<Entry>) -> Vec<String> {
        v.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn follows_growth_partial_lines_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        let mut f = Follower::new(&p);
        assert!(f.poll().unwrap().is_empty());
        assert!(!f.seen);

        append(&p, b"\xEF\xBB\xBF");
        append(&p, line("one").as_bytes());
        let two = line("two");
        append(&p, &two.as_bytes()[..10]);
        assert_eq!(messages(f.poll().unwrap()), ["one"]);
        append(&p, &two.as_bytes()[10..]);
        assert_eq!(messages(f.poll().unwrap()), ["two"]);
        assert!(f.poll().unwrap().is_empty());

        // Rotated: a new, shorter file.
        std::fs::rename(&p, dir.path().join("x.lo_")).unwrap();
        assert!(f.poll().unwrap().is_empty());
        append(&p, line("three").as_bytes());
        let e = f.poll().unwrap();
        assert_eq!(e[0].message, "three");
        assert_eq!(e[0].line, 1);

        // Replaced by a longer file with other first bytes.
        std::fs::write(&p, [line("four"), line("five"), line("six")].concat()).unwrap();
        assert_eq!(messages(f.poll().unwrap()), ["four", "five", "six"]);
    }

    #[test]
    fn follows_utf16_written_in_odd_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.log");
        let mut bytes = vec![0xFF, 0xFE];
        for u in [line("one"), line("two")].concat().encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let mut f = Follower::new(&p);
        let mut got = Vec::new();
        for piece in bytes.chunks(7) {
            append(&p, piece);
            got.extend(messages(f.poll().unwrap()));
        }
        assert_eq!(got, ["one", "two"]);
    }

    #[test]
    fn a_last_line_without_newline_counts_once_complete() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        let l = line("done");
        append(&p, l.trim_end().as_bytes());
        let mut f = Follower::new(&p);
        assert!(f.poll().unwrap().is_empty());
        assert_eq!(f.unterminated_tail().unwrap().message, "done");
    }

    #[test]
    fn wait_times_out_without_sleeping_past_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing.log");
        let start = Instant::now();
        let w = wait_for(
            &p,
            &["x".into()],
            Duration::from_millis(300),
            Duration::from_secs(60),
            || false,
        )
        .unwrap();
        assert!(matches!(w, Waited::TimedOut { file_seen: false }), "{w:?}");
        let took = start.elapsed();
        assert!(took < Duration::from_secs(2), "{took:?}");
        let w = wait_for(
            &p,
            &["x".into()],
            Duration::from_secs(60),
            Duration::from_secs(1),
            || true,
        )
        .unwrap();
        assert!(matches!(w, Waited::Cancelled));
    }
}
