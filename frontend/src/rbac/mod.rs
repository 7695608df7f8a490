//! Manta's RBAC: sub-users of an account with their own SSH keys, roles
//! (members, default members, policies) and policies (Aperture rules such as
//! `CAN getobject, putobject`), and the role tags objects and directories
//! carry. docs/rbac.md describes the model and the operator commands.
//!
//! - [`policy`]: parsing rules into the [`Action`]s they allow, and
//!   [`conditions`] they allow them under (`IF sourceip = ...`);
//! - [`decide`]: the decision, without I/O: which roles a sub-user has
//!   active for a request, and whether they allow an action on an entry
//!   with given role tags (`NoMatchingRoleTag`, `AuthorizationFailed`);
//! - [`enforce`]: the request-time check over the Manta API, which looks up
//!   the entry (or its parent, for creates) whose tags decide;
//! - [`jobs`]: sub-users' jobs (who may create, see and drive them, and
//!   what they may read);
//! - [`tags`]: the `role-tag` header, role names on the wire and uuids in
//!   records;
//! - [`admin`]: the changes `mantad account user|role|policy` make, as
//!   [`crate::accounts::Accounts`] methods.
//!
//! The records live inside the account record ([`AccountRecord`]), so they
//! are read, cached and invalidated with it: a change made on one frontend
//! (or by `mantad account`) is seen by the others within the account
//! cache's TTL, and at once on the frontend that made it.

pub mod admin;
pub mod conditions;
#[cfg(test)]
mod conditions_prop;
pub(crate) mod decide;
pub(crate) mod enforce;
pub(crate) mod jobs;
pub mod policy;
pub(crate) mod tags;

pub use policy::Action;

use crate::records::{AccountRecord, SshKeyRecord};
use serde::{Deserialize, Serialize};

/// The sub-user anonymous callers act as, when the owner has one.
pub const ANONYMOUS_USER: &str = "anonymous";

/// Most sub-users, roles or policies one account may have (bounds the
/// account record, which every request of the account reads).
pub const MAX_ENTITIES: usize = 500;
/// Most rules in one policy.
pub const MAX_RULES: usize = 100;
/// Longest rule text.
pub const MAX_RULE_LEN: usize = 1024;
/// Most role tags on one entry.
pub const MAX_ROLE_TAGS: usize = 64;

/// A sub-user of an account: its login (unique within the account) and its
/// SSH keys. It signs with keyId `/ACCOUNT/USER/keys/FP`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SubUserRecord {
    pub uuid: String,
    pub login: String,
    #[serde(default)]
    pub keys: Vec<SshKeyRecord>,
    #[serde(default)]
    pub created_ms: u64,
}

impl SubUserRecord {
    /// The key with this fingerprint (as [`AccountRecord::ssh_key`]).
    pub fn ssh_key(&self, fingerprint: &str) -> Option<&SshKeyRecord> {
        crate::records::find_key(&self.keys, fingerprint)
    }
}

/// A role: who may take it (members), who has it without asking (default
/// members, a subset of members), and the policies it grants.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RoleRecord {
    /// What objects' role tags store, so a role removed and made again
    /// under the same name does not inherit the old tags.
    pub uuid: String,
    pub name: String,
    /// Sub-user logins.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub default_members: Vec<String>,
    /// Policy names.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A named list of rules.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PolicyRecord {
    pub uuid: String,
    pub name: String,
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A role or policy name: what Triton allows (`[A-Za-z0-9._-]`, 1..64),
/// so names travel in comma lists (`Role`, `role-tag`) unambiguously.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A sub-user login: a login (`path::valid_login`) other than the words a
/// keyId uses for structure.
pub fn valid_user_login(login: &str) -> bool {
    crate::path::valid_login(login) && !matches!(login, "keys" | "users")
}

impl AccountRecord {
    pub fn user(&self, login: &str) -> Option<&SubUserRecord> {
        self.users.iter().find(|u| u.login == login)
    }

    pub fn role(&self, name: &str) -> Option<&RoleRecord> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn policy(&self, name: &str) -> Option<&PolicyRecord> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The name of the role with this uuid, if it still exists.
    pub fn role_name(&self, uuid: &str) -> Option<&str> {
        self.roles
            .iter()
            .find(|r| r.uuid == uuid)
            .map(|r| r.name.as_str())
    }
}
