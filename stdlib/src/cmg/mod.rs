//! The cloud management gateway. Its naming rules live here, where the certificate
//! checks and the CMG's own functions both find them.

pub mod names;
