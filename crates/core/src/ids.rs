//! Typed identifiers, so a site id can never be passed where a company id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps a UUID (the caller makes it: v7 keeps ids in creation order).
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }
    };
}

id_type!(
    /// An installation company (the tenant).
    CompanyId
);
id_type!(
    /// A person: installer employee, end user or platform operator.
    UserId
);
id_type!(
    /// A site: the place where a customer's devices are.
    SiteId
);
id_type!(
    /// A device in a site.
    DeviceId
);
id_type!(
    /// An installer's application for a site authorization.
    AuthorizationId
);
id_type!(
    /// An invitation of an end user to be a site's owner.
    InvitationId
);
id_type!(
    /// A company's claim of an existing site by its Site ID.
    ClaimId
);
id_type!(
    /// An alarm kept for an end user.
    AlarmId
);
