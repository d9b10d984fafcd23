//! CMTrace log files as plain Rust: decoding, the two line formats, and the options of
//! `logs::wait_for`. No Rhai and no file access here.
//!
//! **Client (CCM) format**, one entry per write, the message possibly over several lines:
//!
//! ```text
//! <![LOG[message]LOG]!><time="13:28:46.510+480" date="01-13-2023" component="ccmsetup" context="" type="1" thread="1456" file="ccmsetup.cpp:10632">
//! ```
//!
//! **Site-server format**, the trailer at the end of the entry's last line:
//!
//! ```text
//! message~~  $$<CMGService><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>
//! ```
//!
//! A site-server message over several lines is written in one piece with the trailer
//! after its last line, so lines without a trailer belong to the entry that **follows**
//! them. Lines that match no format (and lines still waiting for a trailer at the end of
//! the file) become raw entries: their text, no time, severity info.
//!
//! **Time bias**: `BIAS` is in minutes with Windows' sign convention (the `Bias` of
//! `TIME_ZONE_INFORMATION`): UTC = local time + bias. `+480` is Pacific Standard Time
//! (UTC−8), `-060` is Central European Time (UTC+1).

use crate::error::{ModuleError, Result};
pub use crate::preflight::Severity;
use serde::Deserialize;
use time::{Date, Duration, Month, PrimitiveDateTime, Time};

/// Start of a client-format entry.
const CLIENT_START: &str = "<![LOG[";
/// End of a client-format message; the attributes follow.
const CLIENT_END: &str = "]LOG]!>";
/// Start of a site-server trailer (the last one on the line).
const SERVER_TRAILER: &str = "$$<";
/// A client message longer than this many lines without its end marker is given up on
/// (its lines become raw entries): a garbage file cannot make the parser hold it all.
const MAX_ENTRY_LINES: usize = 10_000;
/// The largest bias accepted, in minutes (a day); beyond it the time is not trusted.
const MAX_BIAS_MINUTES: i32 = 24 * 60;

/// Which format an entry was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Client,
    Server,
    /// A line that matches no format: the text is kept as the message.
    Raw,
}

/// A timestamp as the log writes it: local time and the bias to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub local: PrimitiveDateTime,
    /// Minutes; UTC = local + bias.
    pub bias_minutes: i32,
}

impl Stamp {
    /// The time in UTC.
    pub fn utc(&self) -> PrimitiveDateTime {
        self.local
            .checked_add(Duration::minutes(i64::from(self.bias_minutes)))
            .unwrap_or(self.local)
    }

    /// RFC 3339 in UTC, milliseconds: `2023-01-13T21:28:46.510Z`.
    pub fn utc_text(&self) -> String {
        format!("{}Z", clock_text(self.utc()))
    }

    /// RFC 3339 with the writer's offset: `2023-01-13T13:28:46.510-08:00`.
    pub fn local_text(&self) -> String {
        let offset = -self.bias_minutes;
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        format!(
            "{}{sign}{:02}:{:02}",
            clock_text(self.local),
            abs / 60,
            abs % 60
        )
    }
}

fn clock_text(t: PrimitiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The 1-based line number where the entry starts.
    pub line: usize,
    pub message: String,
    pub component: Option<String>,
    pub stamp: Option<Stamp>,
    pub severity: Severity,
    pub thread: Option<u64>,
    /// The client format's `file` attribute (`ccmsetup.cpp:10632`), when present.
    pub file: Option<String>,
    pub format: Format,
}

impl Entry {
    fn raw(line: usize, text: String) -> Self {
        Entry {
            line,
            message: text,
            component: None,
            stamp: None,
            severity: Severity::Info,
            thread: None,
            file: None,
            format: Format::Raw,
        }
    }

    /// True when the message contains any of `patterns` (plain, case-sensitive).
    pub fn matches(&self, patterns: &[String]) -> bool {
        patterns.iter().any(|p| self.message.contains(p.as_str()))
    }
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.stamp {
            Some(s) => write!(f, "{} ", s.utc_text())?,
            None => write!(f, "line {} ", self.line)?,
        }
        write!(f, "{}", self.severity.as_str())?;
        if let Some(c) = &self.component {
            write!(f, " {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

// ---- decoding ----

/// The text encoding of a log file, from its byte order mark (UTF-8 without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// The encoding of a file starting with `head`, and the length of its BOM.
    pub fn sniff(head: &[u8]) -> (Encoding, usize) {
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            (Encoding::Utf8, 3)
        } else if head.starts_with(&[0xFF, 0xFE]) {
            (Encoding::Utf16Le, 2)
        } else if head.starts_with(&[0xFE, 0xFF]) {
            (Encoding::Utf16Be, 2)
        } else {
            (Encoding::Utf8, 0)
        }
    }

    /// How many leading bytes of `bytes` make complete lines (up to and including the
    /// last newline): what can be parsed while a writer may still be mid-line.
    pub fn complete_len(self, bytes: &[u8]) -> usize {
        match self {
            Encoding::Utf8 => bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1),
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let nl: [u8; 2] = if self == Encoding::Utf16Le {
                    [b'\n', 0]
                } else {
                    [0, b'\n']
                };
                let units = bytes.len() / 2;
                (0..units)
                    .rev()
                    .find(|&u| bytes[2 * u..2 * u + 2] == nl)
                    .map_or(0, |u| 2 * u + 2)
            }
        }
    }

    /// The text of `bytes` (no BOM), invalid sequences replaced.
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let units: Vec<u16> = bytes
                    .chunks_exact(2)
                    .map(|c| {
                        if self == Encoding::Utf16Le {
                            u16::from_le_bytes([c[0], c[1]])
                        } else {
                            u16::from_be_bytes([c[0], c[1]])
                        }
                    })
                    .collect();
                String::from_utf16_lossy(&units)
            }
        }
    }
}

/// Every entry of a whole file's bytes (BOM, UTF-16, CRLF and garbage included).
pub fn parse_bytes(bytes: &[u8]) -> Vec<Entry> {
    let (enc, bom) = Encoding::sniff(bytes);
    parse_text(&enc.decode(&bytes[bom..]))
}

/// Every entry of a log's text.
pub fn parse_text(text: &str) -> Vec<Entry> {
    let mut parser = Parser::new();
    let mut out = Vec::new();
    parser.push_text(text, &mut out);
    parser.finish(&mut out);
    out
}

// ---- the parser ----

#[derive(Clone)]
enum Pending {
    None,
    /// A client entry whose end marker has not been seen yet.
    Client {
        start: usize,
        lines: Vec<String>,
    },
    /// Lines without a trailer, waiting for the site-server line that ends them.
    Continuation {
        start: usize,
        lines: Vec<String>,
    },
}

/// A line-by-line parser that keeps what a multi-line entry has so far, so a growing
/// file can be parsed as it is written (`push_text` with complete lines, `finish` at
/// the end of a whole file).
#[derive(Clone)]
pub struct Parser {
    next_line: usize,
    pending: Pending,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    pub fn new() -> Self {
        Parser {
            next_line: 1,
            pending: Pending::None,
        }
    }

    /// Parse `text` (complete lines; a last line without a newline counts as one),
    /// adding finished entries to `out`.
    pub fn push_text(&mut self, text: &str, out: &mut Vec<Entry>) {
        if text.is_empty() {
            return;
        }
        let text = text.strip_suffix('\n').unwrap_or(text);
        for line in text.split('\n') {
            self.push_line(line, out);
        }
    }

    /// Parse one line (without its newline; a trailing `\r` is dropped).
    pub fn push_line(&mut self, line: &str, out: &mut Vec<Entry>) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let no = self.next_line;
        self.next_line += 1;
        let starts_client = line.trim_start().starts_with(CLIENT_START);

        if let Pending::Client { lines, .. } = &mut self.pending {
            if !starts_client && lines.len() < MAX_ENTRY_LINES {
                lines.push(line.to_string());
                if line.contains(CLIENT_END) {
                    if let Pending::Client { start, lines } =
                        std::mem::replace(&mut self.pending, Pending::None)
                    {
                        out.push(client_entry(start, &lines.join("\n")));
                    }
                }
                return;
            }
            // A new entry began (or the limit was reached) before this one ended.
            self.flush(out);
        }

        if starts_client {
            self.flush(out);
            if line.contains(CLIENT_END) {
                out.push(client_entry(no, line));
            } else {
                self.pending = Pending::Client {
                    start: no,
                    lines: vec![line.to_string()],
                };
            }
            return;
        }

        if let Some(mut entry) = server_entry(no, line) {
            if let Pending::Continuation { start, lines } =
                std::mem::replace(&mut self.pending, Pending::None)
            {
                let mut message = lines.join("\n");
                message.push('\n');
                message.push_str(&entry.message);
                entry.message = message;
                entry.line = start;
            }
            out.push(entry);
            return;
        }

        match &mut self.pending {
            Pending::Continuation { lines, .. } if lines.len() < MAX_ENTRY_LINES => {
                lines.push(line.to_string())
            }
            Pending::Continuation { .. } => {
                self.flush(out);
                self.pending = Pending::Continuation {
                    start: no,
                    lines: vec![line.to_string()],
                };
            }
            _ if line.trim().is_empty() => {}
            _ => {
                self.pending = Pending::Continuation {
                    start: no,
                    lines: vec![line.to_string()],
                }
            }
        }
    }

    /// The end of the file: what is still waiting becomes raw entries.
    pub fn finish(&mut self, out: &mut Vec<Entry>) {
        self.flush(out);
    }

    /// Lines still waiting (an unterminated client entry, lines without a trailer)
    /// become raw entries, one a line.
    fn flush(&mut self, out: &mut Vec<Entry>) {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => {}
            Pending::Client { start, lines } | Pending::Continuation { start, lines } => {
                for (i, l) in lines.into_iter().enumerate() {
                    if !l.trim().is_empty() {
                        out.push(Entry::raw(start + i, l));
                    }
                }
            }
        }
    }
}

/// A client entry from its text (`<![LOG[` ... `]LOG]!><attributes>`), lines joined.
fn client_entry(line: usize, text: &str) -> Entry {
    let body = match text.find(CLIENT_START) {
        Some(i) => &text[i + CLIENT_START.len()..],
        None => text,
    };
    let (message, trailer) = match body.find(CLIENT_END) {
        Some(i) => (&body[..i], &body[i + CLIENT_END.len()..]),
        None => (body, ""),
    };
    let attrs = attributes(trailer);
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.as_str())
    };
    let stamp = match (get("date"), get("time")) {
        (Some(d), Some(t)) => stamp(d, t),
        _ => None,
    };
    let severity = match get("type").map(str::trim) {
        Some("2") => Severity::Warning,
        Some("3") => Severity::Error,
        _ => Severity::Info,
    };
    let non_empty = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
    Entry {
        line,
        message: message.to_string(),
        component: non_empty(get("component")),
        stamp,
        severity,
        thread: get("thread").and_then(|t| t.trim().parse().ok()),
        file: non_empty(get("file")),
        format: Format::Client,
    }
}

/// `<key="value" key="value">` pairs, as far as they are well formed.
fn attributes(trailer: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let Some(mut rest) = trailer.trim_start().strip_prefix('<') else {
        return out;
    };
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            break;
        }
        let Some(value_start) = rest[eq + 1..].strip_prefix('"') else {
            break;
        };
        let Some(end) = value_start.find('"') else {
            break;
        };
        out.push((key, value_start[..end].to_string()));
        rest = &value_start[end + 1..];
    }
    out
}

/// A site-server line: `message  $$<COMPONENT><MM-DD-YYYY HH:MM:SS.mmm+BIAS><thread=N (0xHEX)>`.
fn server_entry(line: usize, text: &str) -> Option<Entry> {
    let at = text.rfind(SERVER_TRAILER)?;
    let trailer = &text[at + SERVER_TRAILER.len()..];
    let (component, rest) = trailer.split_once('>')?;
    let rest = rest.strip_prefix('<')?;
    let (when, rest) = rest.split_once('>').unwrap_or((rest, ""));
    let thread = rest
        .strip_prefix("<thread=")
        .map(|t| t.split(['>', ' ']).next().unwrap_or(""))
        .and_then(|t| {
            t.parse::<u64>()
                .ok()
                .or_else(|| u64::from_str_radix(t, 16).ok())
        });
    let stamp = when
        .split_once(' ')
        .and_then(|(date, clock)| stamp(date, clock));
    let message = text[..at].trim_end().trim_end_matches('~').trim_end();
    Some(Entry {
        line,
        message: message.to_string(),
        component: Some(component.to_string()).filter(|c| !c.is_empty()),
        stamp,
        severity: Severity::Info,
        thread,
        file: None,
        format: Format::Server,
    })
}

/// `MM-DD-YYYY` and `HH:MM:SS[.fff][+|-BIAS]` as a stamp; `None` when either is malformed
/// or the bias is missing.
pub fn stamp(date: &str, clock: &str) -> Option<Stamp> {
    let mut d = date.trim().split('-');
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    let year: i32 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=9999).contains(&year) {
        return None;
    }
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;

    let clock = clock.trim();
    let sign_at = clock.find(['+', '-'])?;
    let (hms, bias) = clock.split_at(sign_at);
    let bias_minutes: i32 = match bias.as_bytes().first() {
        Some(b'-') => -digits(&bias[1..])?,
        _ => digits(&bias[1..])?,
    };
    if bias_minutes.abs() > MAX_BIAS_MINUTES {
        return None;
    }
    let (hms, frac) = hms.split_once('.').unwrap_or((hms, ""));
    let mut t = hms.split(':');
    let hour: u8 = t.next()?.parse().ok()?;
    let minute: u8 = t.next()?.parse().ok()?;
    let second: u8 = t.next()?.parse().ok()?;
    if t.next().is_some() {
        return None;
    }
    let milli = if frac.is_empty() {
        0
    } else {
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // The first three digits are milliseconds; more precision is dropped.
        let ms: String = frac.chars().chain("000".chars()).take(3).collect();
        ms.parse().ok()?
    };
    let time = Time::from_hms_milli(hour, minute, second, milli).ok()?;
    Some(Stamp {
        local: PrimitiveDateTime::new(date, time),
        bias_minutes,
    })
}

/// 1–4 ASCII digits as a number.
fn digits(s: &str) -> Option<i32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

// ---- options ----

/// Options of `logs::wait_for`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitOptions {
    /// Seconds to wait, 1–86400.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Seconds between looks at the file, 0.1–60.
    #[serde(default = "default_poll")]
    pub poll: f64,
}

pub const DEFAULT_TIMEOUT_SECS: u64 = 300;
pub const MAX_TIMEOUT_SECS: u64 = 86_400;
pub const DEFAULT_POLL_SECS: f64 = 1.0;

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_poll() -> f64 {
    DEFAULT_POLL_SECS
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: DEFAULT_TIMEOUT_SECS,
            poll: DEFAULT_POLL_SECS,
        }
    }
}

impl WaitOptions {
    pub fn validate(&self, function: &str) -> Result<()> {
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout) {
            return Err(ModuleError::validation(format!(
                "{function}: option `timeout` must be 1 to {MAX_TIMEOUT_SECS} seconds, not {}",
                self.timeout
            )));
        }
        if !(0.1..=60.0).contains(&self.poll) {
            return Err(ModuleError::validation(format!(
                "{function}: option `poll` must be 0.1 to 60 seconds, not {}",
                self.poll
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CCM_1: &str = r#"<![LOG[==========[ ccmsetup started in process 10168 ]==========]LOG]!><time="13:28:46.510+480" date="01-13-2023" component="ccmsetup" context="" type="1" thread="1456" file="ccmsetup.cpp:10632">"#;
    const CCM_2: &str = r#"<![LOG[CcmSetup is exiting with return code 0]LOG]!><time="10:27:38.002+360" date="02-16-2018" component="ccmsetup" context="" type="1" thread="7556" file="ccmsetup.cpp:11051">"#;
    const SRV_1: &str = "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  RequestSize: 1974 Bytes  ResponseCount: 1  ResponseSize: 1566 Bytes  AverageElapsedTime: 218 ms~~  $$<CMGService><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>";
    const SRV_2: &str = "---->: An event has occurred, the event code is: 0x1  $$<SMS_SITE_SYSTEM_STATUS_SUMMARIZER><12-06-2016 03:11:46.039+300><thread=4840 (0x12E8)>";
    const SRV_UDX: &str = "Successfully published UDX for Azure Active Directory users.~~  $$<SMS_AZUREAD_DISCOVERY_AGENT><11-26-2025 20:07:12.345+00><thread=5124 (0x1404)>";

    fn one(text: &str) -> Entry {
        let e = parse_text(text);
        assert_eq!(e.len(), 1, "{e:#?}");
        e.into_iter().next().unwrap()
    }

    #[test]
    fn client_samples() {
        let e = one(CCM_1);
        assert_eq!(e.format, Format::Client);
        assert_eq!(
            e.message,
            "==========[ ccmsetup started in process 10168 ]=========="
        );
        assert_eq!(e.component.as_deref(), Some("ccmsetup"));
        assert_eq!(e.thread, Some(1456));
        assert_eq!(e.file.as_deref(), Some("ccmsetup.cpp:10632"));
        assert_eq!(e.severity, Severity::Info);
        assert_eq!(e.line, 1);
        let s = e.stamp.unwrap();
        assert_eq!(s.bias_minutes, 480);
        // +480 is UTC-8: 13:28 local is 21:28 UTC.
        assert_eq!(s.utc_text(), "2023-01-13T21:28:46.510Z");
        assert_eq!(s.local_text(), "2023-01-13T13:28:46.510-08:00");

        let e = one(CCM_2);
        assert_eq!(e.message, "CcmSetup is exiting with return code 0");
        assert_eq!(
            e.stamp.unwrap().utc_text(),
            "2018-02-16T16:27:38.002Z",
            "+360 is UTC-6"
        );
    }

    #[test]
    fn negative_bias_is_east_of_utc_and_crosses_midnight() {
        let e = one(
            r#"<![LOG[x]LOG]!><time="00:30:00.000-060" date="01-01-2024" component="c" context="" type="1" thread="1" file="">"#,
        );
        let s = e.stamp.unwrap();
        assert_eq!(s.bias_minutes, -60);
        assert_eq!(s.utc_text(), "2023-12-31T23:30:00.000Z");
        assert_eq!(s.local_text(), "2024-01-01T00:30:00.000+01:00");
        assert_eq!(e.file, None, "an empty file attribute is no file");
        // Positive bias across the end of a day too.
        let e = one(
            r#"<![LOG[y]LOG]!><time="23:59:59.999+480" date="02-28-2024" component="c" context="" type="1" thread="1" file="">"#,
        );
        assert_eq!(e.stamp.unwrap().utc_text(), "2024-02-29T07:59:59.999Z");
    }

    #[test]
    fn client_severity() {
        for (t, sev) in [
            ("0", Severity::Info),
            ("1", Severity::Info),
            ("2", Severity::Warning),
            ("3", Severity::Error),
        ] {
            let line = format!(
                r#"<![LOG[m]LOG]!><time="01:02:03.004+000" date="05-06-2021" component="c" context="" type="{t}" thread="9" file="f.cpp:1">"#
            );
            assert_eq!(one(&line).severity, sev, "type {t}");
        }
    }

    #[test]
    fn client_message_over_several_lines() {
        let text = format!(
            "{CCM_1}\r\n<![LOG[first line\r\nsecond line\r\n\r\nlast line]LOG]!><time=\"13:28:47.000+480\" date=\"01-13-2023\" component=\"ccmsetup\" context=\"\" type=\"3\" thread=\"1456\" file=\"x.cpp:1\">\r\n{CCM_2}\r\n"
        );
        let e = parse_text(&text);
        assert_eq!(e.len(), 3, "{e:#?}");
        assert_eq!(e[1].message, "first line\nsecond line\n\nlast line");
        assert_eq!(e[1].line, 2);
        assert_eq!(e[1].severity, Severity::Error);
        assert_eq!(e[2].line, 6);
    }

    #[test]
    fn server_samples() {
        let e = one(SRV_1);
        assert_eq!(e.format, Format::Server);
        assert!(e.message.ends_with("AverageElapsedTime: 218 ms"), "{e:?}");
        assert_eq!(e.component.as_deref(), Some("CMGService"));
        assert_eq!(e.thread, Some(4992));
        assert_eq!(e.severity, Severity::Info);
        let s = e.stamp.unwrap();
        assert_eq!(s.bias_minutes, 0);
        assert_eq!(s.utc_text(), "2020-06-24T15:31:46.376Z");
        assert_eq!(s.local_text(), "2020-06-24T15:31:46.376+00:00");

        let e = one(SRV_2);
        assert_eq!(
            e.message,
            "---->: An event has occurred, the event code is: 0x1"
        );
        assert_eq!(
            e.component.as_deref(),
            Some("SMS_SITE_SYSTEM_STATUS_SUMMARIZER")
        );
        assert_eq!(e.stamp.unwrap().utc_text(), "2016-12-06T08:11:46.039Z");

        let e = one(SRV_UDX);
        assert_eq!(
            e.message,
            "Successfully published UDX for Azure Active Directory users."
        );
    }

    #[test]
    fn server_legacy_trailer_keeps_component_and_thread() {
        let e = one("Service started  $$<SMS_X><Wed May 21 17:09:02 1997~><thread=DB>");
        assert_eq!(e.format, Format::Server);
        assert_eq!(e.message, "Service started");
        assert_eq!(e.component.as_deref(), Some("SMS_X"));
        assert_eq!(e.stamp, None);
        assert_eq!(e.thread, Some(0xDB));
    }

    #[test]
    fn server_lines_without_trailer_belong_to_the_next_entry() {
        let text = format!("{SRV_2}\nSELECT *\n  FROM Users\nWHERE 1=1  $$<SMS_X><01-02-2024 03:04:05.006-120><thread=7 (0x7)>\n{SRV_1}\n");
        let e = parse_text(&text);
        assert_eq!(e.len(), 3, "{e:#?}");
        assert_eq!(e[1].message, "SELECT *\n  FROM Users\nWHERE 1=1");
        assert_eq!(e[1].line, 2);
        assert_eq!(e[1].stamp.unwrap().utc_text(), "2024-01-02T01:04:05.006Z");
        assert_eq!(e[2].line, 5);
    }

    #[test]
    fn bom_and_utf16() {
        let text = format!("{CCM_1}\r\n{CCM_2}\r\n");
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend_from_slice(text.as_bytes());
        let e = parse_bytes(&utf8);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].format, Format::Client);
        assert!(e[0].message.starts_with("=========="));

        let mut utf16 = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(parse_bytes(&utf16), e);
        let body = &utf16[2..];
        assert_eq!(Encoding::Utf16Le.complete_len(body), body.len());
        // Half of the last newline: only the first line is complete.
        assert_eq!(
            Encoding::Utf16Le.complete_len(&body[..body.len() - 1]),
            2 * (CCM_1.len() + 2)
        );
    }

    #[test]
    fn unmatched_lines_are_raw_entries() {
        let text = format!("garbage one\n{CCM_1}\n<![LOG[never ended\n{CCM_2}\nlast words");
        let e = parse_text(&text);
        let raw: Vec<(usize, &str)> = e
            .iter()
            .filter(|e| e.format == Format::Raw)
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(
            raw,
            [
                (1, "garbage one"),
                (3, "<![LOG[never ended"),
                (5, "last words")
            ]
        );
        assert_eq!(e.len(), 5);
    }

    #[test]
    fn truncated_lines_never_panic() {
        let text = format!("{CCM_1}\r\n{SRV_1}\r\n{SRV_UDX}\n");
        for cut in 0..=text.len() {
            let bytes = &text.as_bytes()[..cut];
            let entries = parse_bytes(bytes);
            for e in &entries {
                let _ = e.to_string();
                if let Some(s) = e.stamp {
                    let _ = (s.utc_text(), s.local_text());
                }
            }
        }
        // A cut inside the attributes keeps the message.
        let e = one(&CCM_1[..CCM_1.find("date=").unwrap()]);
        assert_eq!(e.format, Format::Client);
        assert!(e.message.contains("ccmsetup started"));
        assert_eq!(e.stamp, None);
    }

    #[test]
    fn garbage_bytes_never_panic() {
        // A fixed xorshift, so a failure reproduces.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet: &[&[u8]] = &[
            b"<![LOG[",
            b"]LOG]!>",
            b"<time=\"",
            b"\"",
            b"$$<",
            b"><",
            b">",
            b"<thread=",
            b"\r\n",
            b"\n",
            b"~~",
            b"12-31-9999 ",
            b"25:61:61.9999+99999",
            b"-",
            b"+",
            b"\xFF\xFE",
            b"\xEF\xBB\xBF",
            b"\xC3",
            b"\x00",
            b"date=\"02-30-2023\"",
        ];
        for _ in 0..2000 {
            let mut bytes = Vec::new();
            let n = next() % 64;
            for _ in 0..n {
                let r = next();
                if r % 3 == 0 {
                    bytes.push((r >> 8) as u8);
                } else {
                    bytes.extend_from_slice(alphabet[(r >> 8) as usize % alphabet.len()]);
                }
            }
            for e in parse_bytes(&bytes) {
                let _ = e.to_string();
                if let Some(s) = e.stamp {
                    let _ = (s.utc_text(), s.local_text());
                }
            }
            for enc in [Encoding::Utf8, Encoding::Utf16Le, Encoding::Utf16Be] {
                let n = enc.complete_len(&bytes);
                assert!(n <= bytes.len());
                let _ = enc.decode(&bytes[..n]);
            }
        }
    }

    #[test]
    fn stamps() {
        assert_eq!(stamp("13-01-2023", "01:00:00.000+000"), None, "month 13");
        assert_eq!(stamp("02-30-2023", "01:00:00.000+000"), None, "no 30 Feb");
        assert_eq!(stamp("01-01-2023", "01:00:00.000"), None, "no bias");
        assert_eq!(
            stamp("01-01-2023", "01:00:00.000+9999"),
            None,
            "bias > a day"
        );
        let s = stamp("01-01-2023", "01:00:00+000").unwrap();
        assert_eq!(s.utc_text(), "2023-01-01T01:00:00.000Z");
        let s = stamp("01-01-2023", "01:00:00.1234567-330").unwrap();
        assert_eq!(s.utc_text(), "2022-12-31T19:30:00.123Z");
        assert_eq!(s.local_text(), "2023-01-01T01:00:00.123+05:30");
    }

    #[test]
    fn wait_options() {
        assert!(WaitOptions::default().validate("f").is_ok());
        let o = WaitOptions {
            timeout: 0,
            poll: 1.0,
        };
        assert!(o.validate("f").unwrap_err().message.contains("`timeout`"));
        let o = WaitOptions {
            timeout: 5,
            poll: 0.0,
        };
        assert!(o.validate("f").unwrap_err().message.contains("`poll`"));
    }
}
