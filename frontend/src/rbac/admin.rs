//! Changing an account's sub-users, roles and policies: read-modify-write
//! of the account record ([`Accounts::update`]), so every change is atomic
//! and the frontend making it sees it at once (others within the account
//! cache's TTL).

use super::policy::parse_rule;
use super::{
    valid_name, valid_user_login, PolicyRecord, RoleRecord, SubUserRecord, MAX_ENTITIES, MAX_RULES,
};
use crate::accounts::Accounts;
use crate::auth::keys;
use crate::records::SshKeyRecord;
use crate::store::{Error, Result};

fn not_found(what: &str, name: &str, login: &str) -> Error {
    Error::NotFound {
        name: format!("{what} {name} of account {login}"),
    }
}

fn full(what: &str) -> Error {
    Error::InvalidArgument(format!("an account has at most {MAX_ENTITIES} {what}"))
}

/// A role or policy: named, with a uuid that role tags and roles refer to.
trait Named: Clone {
    fn name(&self) -> &str;
    fn uuid_mut(&mut self) -> &mut String;
}

impl Named for RoleRecord {
    fn name(&self) -> &str {
        &self.name
    }
    fn uuid_mut(&mut self) -> &mut String {
        &mut self.uuid
    }
}

impl Named for PolicyRecord {
    fn name(&self) -> &str {
        &self.name
    }
    fn uuid_mut(&mut self) -> &mut String {
        &mut self.uuid
    }
}

/// Puts `new` in `list`, replacing the one of its name (whose uuid it
/// keeps, so what refers to it still does); whether it was new.
fn upsert<T: Named>(list: &mut Vec<T>, mut new: T, what: &str) -> Result<(T, bool)> {
    if let Some(old) = list.iter_mut().find(|x| x.name() == new.name()) {
        *new.uuid_mut() = std::mem::take(old.uuid_mut());
        *old = new.clone();
        return Ok((new, false));
    }
    if list.len() >= MAX_ENTITIES {
        return Err(full(what));
    }
    list.push(new.clone());
    Ok((new, true))
}

/// What a role is made of, as `mantad account role add` gives it.
#[derive(Debug, Clone, Default)]
pub struct RoleSpec {
    pub members: Vec<String>,
    /// Members who have the role without asking for it (each is made a
    /// member too).
    pub default_members: Vec<String>,
    pub policies: Vec<String>,
}

impl Accounts {
    /// Adds a sub-user.
    ///
    /// # Errors
    /// `InvalidArgument` for a bad login or one in use; as `update`.
    pub async fn add_user(&self, login: &str, user: &str) -> Result<SubUserRecord> {
        if !valid_user_login(user) {
            return Err(Error::InvalidArgument(format!(
                "invalid user login {user:?} (a letter, then letters, digits or _-.@%; not keys or users)"
            )));
        }
        self.update(login, |rec| {
            if rec.user(user).is_some() {
                return Err(Error::InvalidArgument(format!(
                    "user {user} of account {login} already exists"
                )));
            }
            if rec.users.len() >= MAX_ENTITIES {
                return Err(full("users"));
            }
            let u = SubUserRecord {
                uuid: uuid::Uuid::new_v4().to_string(),
                login: user.to_string(),
                keys: Vec::new(),
                created_ms: crate::time::now_ms(),
            };
            rec.users.push(u.clone());
            Ok(u)
        })
        .await
    }

    /// Removes a sub-user (and its role memberships); its keys stop working.
    ///
    /// # Errors
    /// `NotFound`; as `update`.
    pub async fn remove_user(&self, login: &str, user: &str) -> Result<()> {
        self.update(login, |rec| {
            let before = rec.users.len();
            rec.users.retain(|u| u.login != user);
            if rec.users.len() == before {
                return Err(not_found("user", user, login));
            }
            for r in &mut rec.roles {
                r.members.retain(|m| m != user);
                r.default_members.retain(|m| m != user);
            }
            Ok(())
        })
        .await
    }

    /// Adds an SSH public key to a sub-user; adding it twice is a no-op.
    ///
    /// # Errors
    /// `InvalidArgument` for text that is not a key; `NotFound`; as `update`.
    pub async fn add_user_key(
        &self,
        login: &str,
        user: &str,
        openssh: &str,
    ) -> Result<SshKeyRecord> {
        let new = keys::parse_public(openssh).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        self.update(login, |rec| {
            let u = rec
                .users
                .iter_mut()
                .find(|u| u.login == user)
                .ok_or_else(|| not_found("user", user, login))?;
            if let Some(k) = u.keys.iter().find(|k| k.md5 == new.md5) {
                return Ok(k.clone());
            }
            if u.keys.len() >= MAX_ENTITIES {
                return Err(full("keys per user"));
            }
            u.keys.push(new.clone());
            Ok(new.clone())
        })
        .await
    }

    /// Removes a sub-user's key by fingerprint (MD5 or SHA-256 form).
    ///
    /// # Errors
    /// `NotFound`; as `update`.
    pub async fn remove_user_key(&self, login: &str, user: &str, fingerprint: &str) -> Result<()> {
        self.update(login, |rec| {
            let u = rec
                .users
                .iter_mut()
                .find(|u| u.login == user)
                .ok_or_else(|| not_found("user", user, login))?;
            let md5 = u
                .ssh_key(fingerprint)
                .map(|k| k.md5.clone())
                .ok_or_else(|| not_found("key", fingerprint, login))?;
            u.keys.retain(|k| k.md5 != md5);
            Ok(())
        })
        .await
    }

    /// Creates a role, or replaces the members and policies of an existing
    /// one (keeping its uuid, so entries tagged with it stay tagged).
    /// Returns the role and whether it was new.
    ///
    /// # Errors
    /// `InvalidArgument` for a bad name, an unknown member or policy; as
    /// `update`.
    pub async fn put_role(
        &self,
        login: &str,
        name: &str,
        spec: &RoleSpec,
    ) -> Result<(RoleRecord, bool)> {
        if !valid_name(name) {
            return Err(Error::InvalidArgument(format!(
                "invalid role name {name:?} (1..64 of A-Z a-z 0-9 . _ -)"
            )));
        }
        self.update(login, |rec| {
            let mut members = spec.members.clone();
            for d in &spec.default_members {
                if !members.contains(d) {
                    members.push(d.clone());
                }
            }
            if let Some(m) = members.iter().find(|m| rec.user(m).is_none()) {
                return Err(Error::InvalidArgument(format!(
                    "{m} is not a user of account {login} (add it with `mantad account user add`)"
                )));
            }
            if let Some(p) = spec.policies.iter().find(|p| rec.policy(p).is_none()) {
                return Err(Error::InvalidArgument(format!(
                    "{p} is not a policy of account {login} (add it with `mantad account policy add`)"
                )));
            }
            let role = RoleRecord {
                uuid: uuid::Uuid::new_v4().to_string(),
                name: name.to_string(),
                members,
                default_members: spec.default_members.clone(),
                policies: spec.policies.clone(),
            };
            upsert(&mut rec.roles, role, "roles")
        })
        .await
    }

    /// Removes a role: entries tagged with it keep the tag's uuid, which
    /// no longer grants anything (a role made again under the same name
    /// has a new uuid).
    ///
    /// # Errors
    /// `NotFound`; as `update`.
    pub async fn remove_role(&self, login: &str, name: &str) -> Result<()> {
        self.update(login, |rec| {
            let before = rec.roles.len();
            rec.roles.retain(|r| r.name != name);
            if rec.roles.len() == before {
                return Err(not_found("role", name, login));
            }
            Ok(())
        })
        .await
    }

    /// Creates a policy, or replaces the rules of an existing one. Returns
    /// the policy and whether it was new.
    ///
    /// # Errors
    /// `InvalidArgument` for a bad name or a rule that does not parse; as
    /// `update`.
    pub async fn put_policy(
        &self,
        login: &str,
        name: &str,
        rules: &[String],
    ) -> Result<(PolicyRecord, bool)> {
        if !valid_name(name) {
            return Err(Error::InvalidArgument(format!(
                "invalid policy name {name:?} (1..64 of A-Z a-z 0-9 . _ -)"
            )));
        }
        if rules.is_empty() || rules.len() > MAX_RULES {
            return Err(Error::InvalidArgument(format!(
                "a policy has 1..{MAX_RULES} rules"
            )));
        }
        for r in rules {
            parse_rule(r).map_err(Error::InvalidArgument)?;
        }
        self.update(login, |rec| {
            let p = PolicyRecord {
                uuid: uuid::Uuid::new_v4().to_string(),
                name: name.to_string(),
                rules: rules.to_vec(),
            };
            upsert(&mut rec.policies, p, "policies")
        })
        .await
    }

    /// Removes a policy no role uses.
    ///
    /// # Errors
    /// `NotFound`; `InvalidArgument` while a role uses it; as `update`.
    pub async fn remove_policy(&self, login: &str, name: &str) -> Result<()> {
        self.update(login, |rec| {
            if let Some(r) = rec
                .roles
                .iter()
                .find(|r| r.policies.iter().any(|p| p == name))
            {
                return Err(Error::InvalidArgument(format!(
                    "policy {name} is used by role {} (remove it from the role first)",
                    r.name
                )));
            }
            let before = rec.policies.len();
            rec.policies.retain(|p| p.name != name);
            if rec.policies.len() == before {
                return Err(not_found("policy", name, login));
            }
            Ok(())
        })
        .await
    }
}
