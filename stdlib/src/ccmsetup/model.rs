//! The CCMSETUPCMD line as plain Rust: its grammar, how it is written and read, and the
//! rules a line must keep. No Rhai and no HTTP here.
//!
//! `CCMSETUPCMD` is a ccmsetup.msi property whose value (in double quotes) is passed to
//! ccmsetup.exe: `PROP=value` pairs and `/param[:value]` switches. Intune passes the
//! whole MSI command line, limited to 1024 characters. Sources:
//! MicrosoftDocs/memdocs:memdocs/configmgr/core/clients/deploy/about-client-installation-properties.md,
//! memdocs/configmgr/comanage/how-to-prepare-Win10.md (api-surface §17).

use crate::preflight::{Finding, Severity};

/// Intune's limit on an app's command line.
pub const MAX_LENGTH: usize = 1024;

/// The path a CMG publishes a management point under: `<service name>/CCM_Proxy_MutualAuth/<id>`.
pub const MUTUAL_AUTH: &str = "/CCM_Proxy_MutualAuth/";

/// The properties ccmsetup documents (upper-case, as written in the docs); any other is
/// kept and warned about.
pub const KNOWN: &[&str] = &[
    "CCMHOSTNAME",
    "SMSSITECODE",
    "AADCLIENTAPPID",
    "AADRESOURCEURI",
    "AADTENANTID",
    "AADTENANTNAME",
    "SMSMP",
    "PROVISIONTS",
    "UPGRADETOLATEST",
    "CCMALWAYSINF",
];

/// One `NAME=value` property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// As written (`SMSSiteCode`); compared without case.
    pub name: String,
    pub value: String,
    /// True when it stood outside the CCMSETUPCMD quotes (an MSI property, as the
    /// tutorial writes `SMSSiteCode`).
    pub outside: bool,
}

/// A parsed or computed command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    pub properties: Vec<Property>,
    /// `/mp:https://…`, `/NoCRLCheck`: (name without the slash, value).
    pub switches: Vec<(String, Option<String>)>,
}

impl Command {
    /// The value of a property, by name without case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    /// Set a property inside the quotes (replacing one of the same name).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .properties
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            Some(p) => {
                p.value = value;
                p.outside = false;
            }
            None => self.properties.push(Property {
                name: name.to_string(),
                value,
                outside: false,
            }),
        }
    }

    /// The line in the current docs' form: everything inside
    /// `CCMSETUPCMD="…"`, values quoted only when they hold a space.
    pub fn render(&self) -> String {
        let mut parts: Vec<String> = self
            .switches
            .iter()
            .map(|(n, v)| match v {
                Some(v) => format!("/{n}:{}", quote_inner(v)),
                None => format!("/{n}"),
            })
            .collect();
        parts.extend(
            self.properties
                .iter()
                .filter(|p| !p.outside)
                .map(|p| format!("{}={}", p.name, quote_inner(&p.value))),
        );
        let mut line = format!("CCMSETUPCMD=\"{}\"", parts.join(" "));
        for p in self.properties.iter().filter(|p| p.outside) {
            line.push_str(&format!(" {}=\"{}\"", p.name, p.value));
        }
        line
    }
}

/// Inside the CCMSETUPCMD quotes a value with a space cannot be quoted with `"`: msiexec
/// would end the property there. ccmsetup takes no such values; refuse rather than
/// guess (checked by [`check`]).
fn quote_inner(v: &str) -> String {
    v.to_string()
}

/// Read a line: the current docs' form (`CCMSETUPCMD="CCMHOSTNAME=… SMSSITECODE=ABC"`),
/// the tutorial's (`SMSSiteCode="ABC"` outside the quotes), a leading `ccmsetup.msi`
/// or `msiexec /i ccmsetup.msi`, and bare `NAME=value` pairs (as ccmsetup.exe takes
/// them). Names are compared without case.
pub fn parse(text: &str) -> Result<Command, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the command line is empty".into());
    }
    let tokens = tokenize(text)?;
    let mut cmd = Command::default();
    let mut seen_ccmsetupcmd = false;
    for t in tokens {
        let lower = t.to_ascii_lowercase();
        if lower == "ccmsetup.msi"
            || lower == "msiexec"
            || lower == "msiexec.exe"
            || lower == "/i"
            || lower == "/qn"
            || lower == "/quiet"
        {
            continue;
        }
        if let Some(inner) = strip_key(&t, "CCMSETUPCMD=") {
            if seen_ccmsetupcmd {
                return Err("CCMSETUPCMD is given twice".into());
            }
            seen_ccmsetupcmd = true;
            let inner = unquote(inner)?;
            for it in tokenize(&inner)? {
                push_token(&mut cmd, &it, false)?;
            }
            continue;
        }
        push_token(&mut cmd, &t, seen_ccmsetupcmd)?;
    }
    if cmd.properties.is_empty() && cmd.switches.is_empty() {
        return Err("no property (NAME=value) in the command line".into());
    }
    Ok(cmd)
}

fn strip_key<'a>(token: &'a str, key: &str) -> Option<&'a str> {
    (token.len() >= key.len() && token[..key.len()].eq_ignore_ascii_case(key))
        .then(|| &token[key.len()..])
}

fn push_token(cmd: &mut Command, token: &str, outside: bool) -> Result<(), String> {
    if let Some(sw) = token.strip_prefix('/') {
        let (name, value) = match sw.split_once(':') {
            Some((n, v)) => (n, Some(unquote(v)?)),
            None => (sw, None),
        };
        if name.is_empty() {
            return Err(format!("`{token}` is a switch without a name"));
        }
        cmd.switches.push((name.to_string(), value));
        return Ok(());
    }
    let Some((name, value)) = token.split_once('=') else {
        return Err(format!("`{token}` is not NAME=value or a /switch"));
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a property name"));
    }
    if cmd.get(name).is_some() {
        return Err(format!("{name} is given twice"));
    }
    cmd.properties.push(Property {
        name: name.to_string(),
        value: unquote(value)?,
        outside,
    });
    Ok(())
}

/// Split on spaces outside double quotes; quotes stay in the tokens.
fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("a double quote is not closed".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn unquote(v: &str) -> Result<String, String> {
    let v = v.trim();
    match (v.starts_with('"'), v.ends_with('"') && v.len() >= 2) {
        (true, true) => Ok(v[1..v.len() - 1].to_string()),
        (false, _) if !v.contains('"') => Ok(v.to_string()),
        _ => Err(format!("`{v}` has a stray double quote")),
    }
}

/// Every rule a line must keep, as findings (an error breaks the install; a warning is
/// worth reading). `text` is the line as it will be given to Intune.
pub fn check(cmd: &Command, text: &str) -> Vec<Finding> {
    // A plan's line may hold values only known after apply: their form is not checked.
    let cmd = &Command {
        properties: cmd
            .properties
            .iter()
            .filter(|p| !p.value.contains(crate::change::AFTER_APPLY_TEXT))
            .cloned()
            .collect(),
        switches: cmd.switches.clone(),
    };
    let unknown = |name: &str| {
        !cmd.properties
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(name))
            && text
                .to_ascii_uppercase()
                .contains(&format!("{}=", name.to_ascii_uppercase()))
    };
    let mut out = Vec::new();
    let err = |id: &str, msg: String, fix: &str| Finding::new(id, Severity::Error, msg, fix);
    let warn = |id: &str, msg: String, fix: &str| Finding::new(id, Severity::Warning, msg, fix);
    if text.len() > MAX_LENGTH {
        out.push(err(
            "length",
            format!("the command line is {} characters; Intune takes at most {MAX_LENGTH}", text.len()),
            "drop properties ccmsetup gets elsewhere (AADTENANTID: ccmsetup asks the CMG since 1810)",
        ));
    }
    match cmd.get("CCMHOSTNAME") {
        None if unknown("CCMHOSTNAME") => {}
        None => out.push(err(
            "ccmhostname-missing",
            "CCMHOSTNAME is missing: an internet client finds the CMG only through it".into(),
            "add CCMHOSTNAME=<CMG service name>/CCM_Proxy_MutualAuth/<id>",
        )),
        Some(h) => {
            if h.to_ascii_lowercase().starts_with("https://")
                || h.to_ascii_lowercase().starts_with("http://")
            {
                out.push(err(
                    "ccmhostname-scheme",
                    format!("CCMHOSTNAME {h} starts with a scheme; ccmsetup wants the host and path only"),
                    "remove https:// (only /mp: takes a URL)",
                ));
            }
            let bare = h
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            match bare.split_once(MUTUAL_AUTH) {
                Some((host, id)) if !host.is_empty() && !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => {}
                Some(_) => out.push(err(
                    "ccmhostname-path",
                    format!("CCMHOSTNAME {h} does not end in {MUTUAL_AUTH}<numeric id>"),
                    "copy the path from the co-management properties or an internet client's SMS_ActiveMPCandidate",
                )),
                None => out.push(warn(
                    "ccmhostname-not-cmg",
                    format!("CCMHOSTNAME {h} is not a CMG path ({MUTUAL_AUTH}<id>): fine for an internet-facing management point only"),
                    "for a CMG use <service name>/CCM_Proxy_MutualAuth/<id>",
                )),
            }
        }
    }
    match cmd.get("SMSSITECODE") {
        None if unknown("SMSSITECODE") => {}
        None => out.push(err(
            "sitecode-missing",
            "SMSSITECODE is missing".into(),
            "add SMSSITECODE=<your three-character site code>",
        )),
        Some(code) if code.eq_ignore_ascii_case("AUTO") && cmd.get("CCMHOSTNAME").is_some() => {
            out.push(err(
                "sitecode-auto",
                "SMSSITECODE=AUTO does not work with CCMHOSTNAME: an internet client cannot look its site up".into(),
                "give the site code, e.g. SMSSITECODE=ABC",
            ))
        }
        Some(code) if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphanumeric()) => {
            if !code.eq_ignore_ascii_case("AUTO") {
                out.push(err(
                    "sitecode-form",
                    format!("SMSSITECODE {code:?} is not a three-character site code"),
                    "a site code is three letters or digits, e.g. ABC",
                ));
            }
        }
        Some(_) => {}
    }
    if let Some(id) = cmd.get("AADCLIENTAPPID") {
        if uuid::Uuid::parse_str(id).is_err() {
            out.push(err(
                "aadclientappid-form",
                format!("AADCLIENTAPPID {id} is not an app id (a GUID)"),
                "use the client (native) app's Application (client) ID",
            ));
        }
    }
    if let Some(uri) = cmd.get("AADRESOURCEURI") {
        if url::Url::parse(uri).is_err() {
            out.push(err(
                "aadresourceuri-form",
                format!("AADRESOURCEURI {uri} is not a URI"),
                "use the server app's Application ID URI, e.g. api://<tenant id>/ConfigMgrService",
            ));
        }
    }
    if let Some(ts) = cmd.get("PROVISIONTS") {
        if ts.len() != 8 || !ts.chars().all(|c| c.is_ascii_alphanumeric()) {
            out.push(err(
                "provisionts-form",
                format!("PROVISIONTS {ts} is not a task sequence deployment ID (eight characters, e.g. ABC20001)"),
                "use the deployment ID, not the task sequence's package ID or name",
            ));
        }
    }
    for p in &cmd.properties {
        if p.value.chars().any(char::is_whitespace) {
            out.push(err(
                "value-space",
                format!(
                    "{} has a space in its value, which the CCMSETUPCMD quotes cannot carry",
                    p.name
                ),
                "remove the space",
            ));
        }
        if !KNOWN.iter().any(|k| k.eq_ignore_ascii_case(&p.name)) {
            out.push(warn(
                "unknown-property",
                format!("{} is not a documented ccmsetup property", p.name),
                "check the spelling against about-client-installation-properties",
            ));
        }
        if p.outside && p.name.eq_ignore_ascii_case("SMSSITECODE") {
            out.push(warn(
                "outside-quotes",
                format!("{} stands outside the CCMSETUPCMD quotes (the tutorial's form): msiexec takes it, the current docs put it inside", p.name),
                "write it inside CCMSETUPCMD=\"…\"",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        let cmd = parse(text).unwrap();
        check(&cmd, text).into_iter().map(|f| f.check).collect()
    }

    #[test]
    fn the_docs_forms_parse() {
        let one = r#"CCMSETUPCMD="CCMHOSTNAME=contoso.cloudapp.net/CCM_Proxy_MutualAuth/72186325152220500 SMSSITECODE=ABC""#;
        let c = parse(one).unwrap();
        assert_eq!(
            c.get("ccmhostname"),
            Some("contoso.cloudapp.net/CCM_Proxy_MutualAuth/72186325152220500")
        );
        assert_eq!(c.get("SMSSITECODE"), Some("ABC"));
        assert!(ids(one).is_empty(), "{:?}", ids(one));
        assert_eq!(c.render(), one);

        let all = r#"CCMSETUPCMD="CCMHOSTNAME=CONTOSO.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500 SMSSITECODE=ABC AADCLIENTAPPID=7506ee10-f7ec-415a-b415-cd3d58790d97 AADRESOURCEURI=https://contososerver SMSMP=https://mp1.contoso.com PROVISIONTS=PRI20001""#;
        assert!(ids(all).is_empty(), "{:?}", ids(all));

        // The tutorial: SMSSiteCode outside the quotes.
        let tutorial = r#"CCMSETUPCMD="CCMHOSTNAME=GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/72057594037927939" SMSSiteCode="ABC""#;
        let c = parse(tutorial).unwrap();
        assert_eq!(c.get("smssitecode"), Some("ABC"));
        assert!(c.properties[1].outside);
        assert_eq!(ids(tutorial), ["outside-quotes"]);

        // 2017 form with a switch and a leading msi name.
        let old = r#"ccmsetup.msi CCMSETUPCMD="/mp:https://contoso.cloudapp.net/CCM_Proxy_MutualAuth/72057594037928100 CCMHOSTNAME=contoso.cloudapp.net/CCM_Proxy_MutualAuth/72057594037928100 SMSSiteCode=PS1 AADTENANTID=3b7a2e0c-0000-4000-8000-000000000001""#;
        let c = parse(old).unwrap();
        assert_eq!(c.switches[0].0, "mp");
        assert!(ids(old).is_empty(), "{:?}", ids(old));
        // Bare pairs, as ccmsetup.exe takes them.
        assert_eq!(parse(r#"CCMHOSTNAME="CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500" SMSSITECODE="MEM""#).unwrap().get("SMSSITECODE"), Some("MEM"));
    }

    #[test]
    fn every_rule_can_be_broken() {
        let base = "GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/72057594037927939";
        let cases: &[(String, &str)] = &[
            (r#"CCMSETUPCMD="SMSSITECODE=ABC""#.to_string(), "ccmhostname-missing"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME=https://{base} SMSSITECODE=ABC""#), "ccmhostname-scheme"),
            (r#"CCMSETUPCMD="CCMHOSTNAME=cmg.contoso.com/CCM_Proxy_MutualAuth/abc SMSSITECODE=ABC""#.to_string(), "ccmhostname-path"),
            (r#"CCMSETUPCMD="CCMHOSTNAME=mp.contoso.com SMSSITECODE=ABC""#.to_string(), "ccmhostname-not-cmg"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base}""#), "sitecode-missing"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base} SMSSITECODE=AUTO""#), "sitecode-auto"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base} SMSSITECODE=ABCD""#), "sitecode-form"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base} SMSSITECODE=ABC AADCLIENTAPPID=nope""#), "aadclientappid-form"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base} SMSSITECODE=ABC AADRESOURCEURI=ConfigMgrService""#), "aadresourceuri-form"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base} SMSSITECODE=ABC PROVISIONTS=MyTaskSequence""#), "provisionts-form"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base} SMSSITECODE=ABC FOO=1""#), "unknown-property"),
            (format!(r#"CCMSETUPCMD="CCMHOSTNAME={base} SMSSITECODE=ABC SMSMP=https://{}""#, "m".repeat(1100)), "length"),
        ];
        for (text, rule) in cases {
            assert!(
                ids(text).iter().any(|i| i == rule),
                "{rule}: {:?} for {text}",
                ids(text)
            );
        }
    }

    #[test]
    fn malformed_lines_are_refused_with_the_reason() {
        for (text, why) in [
            ("", "empty"),
            (r#"CCMSETUPCMD="CCMHOSTNAME=x"#, "not closed"),
            ("CCMHOSTNAME", "not NAME=value"),
            (r#"CCMSETUPCMD="A=1" CCMSETUPCMD="B=2""#, "twice"),
            (
                r#"CCMSETUPCMD="SMSSITECODE=ABC SMSSITECODE=XYZ""#,
                "given twice",
            ),
            ("ccmsetup.msi", "no property"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(why), "{text:?}: {e}");
        }
    }

    #[test]
    fn values_a_plan_cannot_know_are_not_checked() {
        let mut c = Command::default();
        c.set(
            "CCMHOSTNAME",
            "GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/(known after apply)",
        );
        c.set("SMSSITECODE", "(known after apply)");
        c.set("AADCLIENTAPPID", "(known after apply)");
        let text = c.render();
        assert!(check(&c, &text).is_empty(), "{:?}", check(&c, &text));
    }

    #[test]
    fn set_and_render_round_trip() {
        let mut c = Command::default();
        c.set(
            "CCMHOSTNAME",
            "GraniteFalls.contoso.com/CCM_Proxy_MutualAuth/72057594037927939",
        );
        c.set("SMSSITECODE", "ABC");
        c.set("AADCLIENTAPPID", "7506ee10-f7ec-415a-b415-cd3d58790d97");
        c.set(
            "AADRESOURCEURI",
            "api://3b7a2e0c-0000-4000-8000-000000000001/ConfigMgrService",
        );
        let text = c.render();
        assert_eq!(parse(&text).unwrap(), c);
        assert!(check(&c, &text).is_empty());
    }
}
