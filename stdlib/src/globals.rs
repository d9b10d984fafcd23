//! Global functions and types every script has: `secret`, `secret_prompt`, the `Secret`
//! type and the `ModuleError` a `catch` receives.

use crate::error::{into_rhai, ModuleError};
use crate::secret::{Secret, REDACTED};
use rhai::plugin::*;

#[export_module]
pub mod globals_api {
    use super::*;

    /// Read a secret from an environment variable.
    ///
    /// The value never prints, is never logged, and never reaches the journal, a plan or
    /// an error message; `print` shows `(secret)`.
    ///
    /// # Returns
    /// A `Secret`.
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// let pw = secret("COMGMT_PFX_PASSWORD");
    /// print(pw);   // (secret)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn secret(ctx: NativeCallContext, name: &str) -> Result<Secret, Box<EvalAltResult>> {
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            Ok(_) => Err(into_rhai(
                ModuleError::validation(format!("environment variable {name} is empty")),
                ctx.call_position(),
            )),
            Err(_) => Err(into_rhai(
                ModuleError::validation(format!("environment variable {name} is not set"))
                    .with_hint(format!(
                        "export {name}=... before the run, or use secret_prompt(\"...\")"
                    )),
                ctx.call_position(),
            )),
        }
    }

    /// Ask for a secret on the terminal, without echo.
    ///
    /// Fails when there is no terminal (CI, pipes): use `secret("ENV_VAR")` there.
    ///
    /// # Returns
    /// A `Secret`.
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai,no_run
    /// let pw = secret_prompt("PFX password");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn secret_prompt(ctx: NativeCallContext, text: &str) -> Result<Secret, Box<EvalAltResult>> {
        let prompt = format!("{}: ", text.trim_end_matches([':', ' ']));
        match rpassword::prompt_password(prompt) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            Ok(_) => Err(into_rhai(
                ModuleError::validation("no secret was entered"),
                ctx.call_position(),
            )),
            Err(e) => Err(into_rhai(
                ModuleError::io(format!("cannot read a secret from the terminal: {e}"))
                    .with_hint("without a terminal, use secret(\"ENV_VAR\")"),
                ctx.call_position(),
            )),
        }
    }

    /// The name of the target this run talks to: `"emulator"` or the profile's name.
    ///
    /// Lets one runbook serve both: for example, have the lab CA issue the certificate on
    /// the emulator and import the provider's certificate everywhere else.
    ///
    /// # Returns
    /// A string.
    ///
    /// # Permission
    /// None (local).
    ///
    /// # Example
    /// ```rhai
    /// if target() == "emulator" { print("lab run"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn target(ctx: NativeCallContext) -> Result<String, Box<EvalAltResult>> {
        Ok(crate::context::Ctx::of(&ctx)?.target.clone())
    }

    /// `(secret)`: a secret's only rendering.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn secret_to_string(_s: &mut Secret) -> String {
        REDACTED.to_string()
    }

    /// The error's kind: `validation`, `not found`, `conflict`, `auth`, `permission`,
    /// `throttled`, `remote`, `transport` or `io`.
    #[rhai_fn(global, get = "kind", pure)]
    pub fn error_kind(e: &mut ModuleError) -> String {
        e.kind.as_str().to_string()
    }

    /// The error's message.
    #[rhai_fn(global, get = "message", pure)]
    pub fn error_message(e: &mut ModuleError) -> String {
        e.message.clone()
    }

    /// The error's hint, or `()` when it has none.
    #[rhai_fn(global, get = "hint", pure)]
    pub fn error_hint(e: &mut ModuleError) -> Dynamic {
        crate::values::optional(e.hint.clone())
    }

    /// The remote error code (e.g. `Request_BadRequest`), or `()`.
    #[rhai_fn(global, get = "code", pure)]
    pub fn error_code(e: &mut ModuleError) -> Dynamic {
        crate::values::optional(e.remote_code.clone())
    }

    /// The service's request id, or `()`.
    #[rhai_fn(global, get = "request_id", pure)]
    pub fn error_request_id(e: &mut ModuleError) -> Dynamic {
        crate::values::optional(e.request_id.clone())
    }

    /// The error as text.
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn error_to_string(e: &mut ModuleError) -> String {
        e.to_string()
    }
}

pub fn register(engine: &mut rhai::Engine) {
    engine.register_global_module(exported_module!(globals_api).into());
}

/// The types every script has, with the line `comgmt doc` shows for each.
pub fn register_types(types: &mut rhai::Module) {
    crate::values::document_type::<Secret>(
        types,
        "Secret",
        "A password, client secret or key: prints as `(secret)`, never logged or journalled.",
    );
    crate::values::document_type::<ModuleError>(
        types,
        "ModuleError",
        "What a `catch` receives from a module function: `kind`, `message`, `hint`, `code`, `request_id`.",
    );
}
