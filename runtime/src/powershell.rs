//! `comgmt plan FILE --powershell OUT.ps1`: the ConfigMgr changes a plan would make, as
//! ConfigurationManager cmdlets, for sites that allow no writes through the
//! AdminService. Secrets are never in it: each command that needs one names a variable
//! that a `Read-Host -AsSecureString` line at the top fills in.

use comgmt_stdlib::change::{ChangeRecord, Equivalent, Shell};
use std::path::Path;
use std::sync::Mutex;

/// The PowerShell equivalents of a plan's changes, in order.
#[derive(Default)]
pub struct Collector {
    items: Mutex<Vec<(String, Equivalent)>>,
}

impl Collector {
    /// Keep a planned change's PowerShell equivalent.
    pub fn record(&self, r: &ChangeRecord) {
        let Some(eq) = r
            .equivalent
            .as_ref()
            .filter(|e| e.shell == Shell::PowerShell)
        else {
            return;
        };
        if r.applied {
            return;
        }
        let what = match &r.label {
            Some(l) => format!("{} {} ({l})", r.action.as_str(), r.object),
            None => format!("{} {} {}", r.action.as_str(), r.object, r.key),
        };
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((what, eq.clone()));
    }

    /// The script text.
    pub fn render(&self, script: &str) -> String {
        let items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str(&format!(
            "# The Configuration Manager changes `comgmt plan {script}` would make, as\n\
             # ConfigurationManager cmdlets. Run it in a ConfigMgr PowerShell session on the\n\
             # site drive (Import-Module ConfigurationManager; Set-Location <SiteCode>:).\n\
             # Secrets are asked for below; none is written in this file.\n\
             # Azure-only changes (az lines) are in the plan itself, not here.\n\n"
        ));
        out.push_str("$ErrorActionPreference = 'Stop'\n");
        let mut preludes: Vec<&str> = Vec::new();
        for (_, eq) in items.iter() {
            for p in &eq.prelude {
                if !preludes.contains(&p.as_str()) {
                    preludes.push(p);
                }
            }
        }
        if !preludes.is_empty() {
            out.push('\n');
            for p in preludes {
                out.push_str(p);
                out.push('\n');
            }
        }
        if items.is_empty() {
            out.push_str("\n# Nothing to change in the site.\n");
        }
        for (what, eq) in items.iter() {
            out.push_str(&format!("\n# {what}\n{}\n", eq.command));
        }
        out
    }

    pub fn write(&self, path: &Path, script: &str) -> std::io::Result<()> {
        std::fs::write(path, self.render(script))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comgmt_stdlib::change::{Action, ResourceId};

    fn record(eq: Equivalent) -> ChangeRecord {
        let id = ResourceId::new(
            "site",
            "server app in the site",
            "SMS_AAD_Application_Ex[ClientID=x]",
        )
        .label("Cloud Management web app");
        let mut r = ChangeRecord::new(&id, Action::Create, Vec::new());
        r.equivalent = Some(eq);
        r
    }

    #[test]
    fn collects_powershell_with_shared_prompts_once() {
        let c = Collector::default();
        let prompt = "$S = Read-Host -AsSecureString -Prompt 'x'";
        c.record(&record(
            Equivalent::powershell("Import-CMAADServerApplication -SecretKey $S")
                .with_prelude(prompt),
        ));
        c.record(&record(
            Equivalent::powershell("Other -SecretKey $S").with_prelude(prompt),
        ));
        c.record(&record(Equivalent::az("az group create")));
        let text = c.render("t.rhai");
        assert_eq!(text.matches(prompt).count(), 1);
        assert!(text.contains("# create server app in the site (Cloud Management web app)\nImport-CMAADServerApplication"));
        assert!(!text.contains("az group create"));
        let mut applied = record(Equivalent::powershell("Applied"));
        applied.applied = true;
        c.record(&applied);
        assert!(!c.render("t").contains("Applied"));
    }
}
