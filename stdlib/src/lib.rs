//! `comgmt-stdlib`: the typed Rhai modules behind comgmt runbooks, and the Microsoft
//! cloud clients they use.
//!
//! Data flows one way: script -> binding (`<module>/mod.rs`) -> ops -> change -> cloud
//! -> HTTP. Nothing below a binding knows Rhai; nothing outside `cloud/` knows URLs.

pub mod change;
pub mod cloud;
pub mod context;
pub mod error;
mod fsio;
pub mod journal;
pub mod options;
pub mod output;
pub mod preflight;
pub mod secret;
#[doc(hidden)]
pub mod testing;
pub mod values;

pub mod azure;
pub mod ccmsetup;
pub mod cert;
pub mod clientsettings;
pub mod cmg;
pub mod comanage;
pub mod dns;
pub mod entra;
pub mod globals;
pub mod logs;
pub mod site;

pub use context::{Ctx, Mode};
pub use error::{ErrorKind, ModuleError};
pub use secret::Secret;

use rhai::{Engine, Module, Shared};

/// A script module: everything the runtime needs to know of it. Adding a module is one
/// folder under `src/` and one entry in [`MODULES`].
pub struct ScriptModule {
    /// Its name in scripts (`entra::...`).
    pub name: &'static str,
    /// One line on what the module is for (shown by `comgmt doc`).
    pub summary: &'static str,
    /// Its Rhai package: the functions, with their doc comments.
    pub build: fn() -> Module,
    /// The option keys each of its functions accepts (`comgmt check`, the docs lint).
    pub options: fn() -> Vec<options::OptionSpec>,
    /// Registers the script-visible types it returns, each with its doc line.
    pub types: fn(&mut Module),
}

/// Every module, in tutorial order.
pub const MODULES: &[ScriptModule] = &[
    ScriptModule {
        name: "cert",
        summary: "The CMG server-authentication certificate: CSR, import, PFX export and checks.",
        build: cert::module,
        options: cert::option_specs,
        types: cert::register_types,
    },
    ScriptModule {
        name: "entra",
        summary:
            "Entra ID: the server and client app registrations, permissions and admin consent.",
        build: entra::module,
        options: entra::option_specs,
        types: entra::register_types,
    },
    ScriptModule {
        name: "site",
        summary: "The ConfigMgr site: the Entra apps and Azure service imported into it, and Entra user discovery.",
        build: site::module,
        options: site::option_specs,
        types: site::register_types,
    },
    ScriptModule {
        name: "logs",
        summary:
            "CMTrace logs (client and site-server formats): read, find, and wait for an entry.",
        build: logs::module,
        options: logs::option_specs,
        types: logs::register_types,
    },
    ScriptModule {
        name: "azure",
        summary: "Azure: the subscription, resource providers, resource group and CMG name checks.",
        build: azure::module,
        options: azure::option_specs,
        types: azure::register_types,
    },
    ScriptModule {
        name: "cmg",
        summary: "The cloud management gateway: created through the site, followed in Azure, scaled, stopped and started.",
        build: cmg::module,
        options: cmg::option_specs,
        types: cmg::register_types,
    },
    ScriptModule {
        name: "clientsettings",
        summary: "Client settings: the Default Client Settings and custom settings, their cloud services and client policy.",
        build: clientsettings::module,
        options: clientsettings::option_specs,
        types: clientsettings::register_types,
    },
    ScriptModule {
        name: "comanage",
        summary: "Co-management: device collections and their rules, automatic enrollment, workloads and pilot collections, devices by co-management state, and the CCMSETUPCMD line.",
        build: comanage::module,
        options: comanage::option_specs,
        types: comanage::register_types,
    },
    ScriptModule {
        name: "dns",
        summary:
            "DNS: the CMG's CNAME record (service name -> deployment name) and Azure DNS zones.",
        build: dns::module,
        options: dns::option_specs,
        types: dns::register_types,
    },
];

/// The option keys every module function accepts (for `comgmt check` and the docs lint).
pub fn option_specs() -> Vec<options::OptionSpec> {
    MODULES.iter().flat_map(|m| (m.options)()).collect()
}

/// Register every type, global function and module on `engine`.
pub fn register(engine: &mut Engine) {
    globals::register(engine);
    // One module carries every script-visible type with its doc line, so the type names
    // in messages and the summaries in `comgmt doc` come from the same registration.
    let mut types = Module::new();
    globals::register_types(&mut types);
    for m in MODULES {
        (m.types)(&mut types);
    }
    engine.register_global_module(types.into());
    for m in MODULES {
        let module: Shared<Module> = (m.build)().into();
        engine.register_static_module(m.name, module);
    }
}
