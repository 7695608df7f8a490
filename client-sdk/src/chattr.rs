//! Changing an entry's metadata without its bytes (Manta's PutMetadata,
//! `PUT ...?metadata=true`, what `mchattr` and `mchmod` send), and the
//! role-tag edits `mchmod` makes ([`RoleTagChange`]).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::info::ObjectInfo;
use reqwest::Method;

/// `mchmod`'s argument: `+r1,r2` adds roles, `-r1` removes them, `=r1,r2`
/// sets exactly these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleTagChange {
    Add(Vec<String>),
    Remove(Vec<String>),
    Set(Vec<String>),
}

impl RoleTagChange {
    /// Parses `[+-=]role,...`.
    ///
    /// # Errors
    /// `Config` (a usage error) for another first character.
    pub fn parse(s: &str) -> Result<RoleTagChange> {
        let mut chars = s.chars();
        let op = chars.next();
        let roles: Vec<String> = chars
            .as_str()
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        match op {
            Some('+') => Ok(RoleTagChange::Add(roles)),
            Some('-') => Ok(RoleTagChange::Remove(roles)),
            Some('=') => Ok(RoleTagChange::Set(roles)),
            _ => Err(Error::Config(
                "operation should be one of \"+\", \"-\" or \"=\"".into(),
            )),
        }
    }

    /// The role tags after this change of `current` (a `role-tag` value).
    pub fn apply(&self, current: Option<&str>) -> Vec<String> {
        let mut roles: Vec<String> = current
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        match self {
            RoleTagChange::Set(r) => return r.clone(),
            RoleTagChange::Add(add) => {
                for r in add {
                    if !roles.contains(r) {
                        roles.push(r.clone());
                    }
                }
            }
            RoleTagChange::Remove(rm) => roles.retain(|r| !rm.contains(r)),
        }
        roles
    }
}

impl Client {
    /// Replaces the metadata of an existing object or directory with
    /// `headers` (`m-*`, `content-type`, CORS, `role-tag`...).
    ///
    /// # Errors
    /// `ResourceNotFound`, `InvalidRoleTag`, authorization errors.
    pub async fn chattr(&self, path: &str, headers: &[(String, String)]) -> Result<()> {
        let path = self.resolve(path)?;
        self.send_retry(|| {
            let mut r = self
                .request(Method::PUT, &path, "metadata=true")
                .header("accept", "*/*")
                .header("content-length", "0");
            for (k, v) in headers {
                r = r.header(k.as_str(), v.as_str());
            }
            r
        })
        .await?;
        Ok(())
    }

    /// `mchmod`: changes the role tags of `path` (reading them first for
    /// `+` and `-`). Returns the tags set.
    ///
    /// # Errors
    /// As [`Client::info`] and [`Client::chattr`].
    pub async fn chmod(&self, path: &str, change: &RoleTagChange) -> Result<Vec<String>> {
        let current = match change {
            RoleTagChange::Set(_) => ObjectInfo::default(),
            _ => self.info(path).await?,
        };
        let roles = change.apply(current.header("role-tag"));
        self.chattr(path, &[("role-tag".into(), roles.join(","))])
            .await?;
        Ok(roles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_applies_mchmod_changes() {
        let add = RoleTagChange::parse("+b,c").unwrap();
        assert_eq!(add.apply(Some("a, b")), vec!["a", "b", "c"]);
        let rm = RoleTagChange::parse("-a").unwrap();
        assert_eq!(rm.apply(Some("a,b")), vec!["b"]);
        let set = RoleTagChange::parse("=x").unwrap();
        assert_eq!(set.apply(Some("a")), vec!["x"]);
        assert_eq!(
            RoleTagChange::parse("=").unwrap().apply(Some("a")),
            Vec::<String>::new()
        );
        assert!(RoleTagChange::parse("x").is_err());
        assert!(RoleTagChange::parse("").is_err());
    }
}
