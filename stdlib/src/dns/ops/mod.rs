//! What the dns module reads and writes: Azure DNS zones and CNAME record sets
//! (resources, written only through `change::ensure`), and the check of a CNAME as
//! clients resolve it (reads only, through the target's resolver).

mod check;
mod cname;
mod zone;

pub use check::check_cname;
pub use cname::cname;
pub use zone::ensure_zone;

/// The module name in plans and the journal.
const MODULE: &str = "dns";

/// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}`.
fn zone_id(subscription: &str, resource_group: &str, zone: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Network/dnsZones/{zone}"
    )
}
