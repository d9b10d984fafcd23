//! Site-server logs in CMTrace's site-server framing:
//! `message~~  $$<COMPONENT><MM-DD-YYYY HH:MM:SS.mmm+BIAS><thread=N (0xHEX)>`, one line
//! each, CRLF-terminated as on Windows.
//! Source: api-surface.md §18.2 (the documented CMGService line in
//! MicrosoftDocs/memdocs:memdocs/configmgr/core/clients/manage/azure-ccmsetup.md); that
//! SMS_AZUREAD_DISCOVERY_AGENT.log uses this framing is an inference (UNCONFIRMED).
//! The bias is written in minutes (`+000` for the emulator's UTC clock).

use std::io::Write;
use std::path::PathBuf;
use time::OffsetDateTime;

/// One component's log file.
pub struct SiteLog {
    pub path: PathBuf,
    pub component: &'static str,
    /// The writing thread's id as the trailer shows it (a made-up, stable number:
    /// UNCONFIRMED).
    pub thread: u32,
}

/// One line, without its line end.
pub fn format_line(message: &str, component: &str, t: OffsetDateTime, thread: u32) -> String {
    // A message never spans lines here, so a reader's line split keeps it whole.
    let message = message.replace(['\r', '\n'], " ");
    format!(
        "{message}~~  $$<{component}><{:02}-{:02}-{:04} {:02}:{:02}:{:02}.{:03}+000><thread={thread} (0x{thread:X})>",
        u8::from(t.month()),
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond(),
    )
}

impl SiteLog {
    /// Append one line. A log that cannot be written is reported in the emulator's own
    /// trace and otherwise ignored, as a full disk would not stop discovery.
    pub fn line(&self, message: &str) {
        let text = format!(
            "{}\r\n",
            format_line(message, self.component, crate::util::now(), self.thread)
        );
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "site log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn framing() {
        let t = datetime!(2025-11-26 20:07:12.345 UTC);
        assert_eq!(
            format_line("Successfully published UDX for Azure Active Directory users.", "SMS_AZUREAD_DISCOVERY_AGENT", t, 5124),
            "Successfully published UDX for Azure Active Directory users.~~  $$<SMS_AZUREAD_DISCOVERY_AGENT><11-26-2025 20:07:12.345+000><thread=5124 (0x1404)>"
        );
        assert!(!format_line("a\r\nb", "C", t, 1).contains('\n'));
    }
}
