//! Role tags on the wire: the `role-tag` header names roles of the entry's
//! owner (comma separated); records keep the roles' uuids, and responses
//! name them again (a tag whose role was removed is not shown, and grants
//! nothing).

use crate::error::{Error, Result};
use crate::manta::Req;
use crate::records::AccountRecord;
use axum::http::HeaderMap;

/// The role uuids a request's `role-tag` header names; `None` without the
/// header, empty for an empty header (which clears the tags).
///
/// # Errors
/// `InvalidRoleTag` for a name that is not a role of `owner`, or too many
/// tags.
pub(crate) fn from_headers(h: &HeaderMap, owner: &AccountRecord) -> Result<Option<Vec<String>>> {
    let Some(v) = h.get("role-tag") else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| Error::InvalidRoleTag("role-tag is not visible ASCII".into()))?;
    parse_names(v, owner).map(Some)
}

/// The role uuids a `role-tag` value names (comma separated names of
/// `owner`'s roles).
///
/// # Errors
/// As [`from_headers`].
pub(crate) fn parse_names(v: &str, owner: &AccountRecord) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let role = owner.role(name).ok_or_else(|| {
            Error::InvalidRoleTag(format!(
                "role {name} does not exist in account {}",
                owner.login
            ))
        })?;
        if !out.contains(&role.uuid) {
            out.push(role.uuid.clone());
        }
        if out.len() > super::MAX_ROLE_TAGS {
            return Err(Error::InvalidRoleTag(format!(
                "more than {} role tags",
                super::MAX_ROLE_TAGS
            )));
        }
    }
    Ok(out)
}

/// [`parse_names`] for a value a request to the owner `req.account`
/// carries elsewhere than in its headers (a multipart upload's target
/// headers), looking again at the source for a role just made.
///
/// # Errors
/// As [`from_headers`]; metadata errors.
pub(crate) async fn from_value(req: &Req, v: &str) -> Result<Vec<String>> {
    match parse_names(v, &req.account) {
        Err(Error::InvalidRoleTag(m)) => {
            let what: String = format!("role-tag:{v}").chars().take(256).collect();
            match req.state.accounts.reread(&req.account.login, &what).await? {
                Some(fresh) => parse_names(v, &fresh),
                None => Err(Error::InvalidRoleTag(m)),
            }
        }
        other => other,
    }
}

/// [`from_headers`] for a request to the owner `req.account`; a name the
/// cached account lacks is looked for again at the source (a role just
/// made by `mantad account` on another process).
///
/// # Errors
/// As [`from_headers`]; metadata errors.
pub(crate) async fn from_request(req: &Req) -> Result<Option<Vec<String>>> {
    match from_headers(&req.headers, &req.account) {
        Err(Error::InvalidRoleTag(m)) => {
            let value = req
                .headers
                .get("role-tag")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let what: String = format!("role-tag:{value}").chars().take(256).collect();
            match req.state.accounts.reread(&req.account.login, &what).await? {
                Some(fresh) => from_headers(&req.headers, &fresh),
                None => Err(Error::InvalidRoleTag(m)),
            }
        }
        other => other,
    }
}

/// The `role-tag` header value for `roles` (uuids), `None` when no tag
/// names a current role.
pub(crate) fn header_value(owner: &AccountRecord, roles: &[String]) -> Option<String> {
    let names: Vec<&str> = roles.iter().filter_map(|u| owner.role_name(u)).collect();
    (!names.is_empty()).then(|| names.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::RoleRecord;

    #[test]
    fn names_to_uuids_and_back() {
        let mut a = AccountRecord::new("acct");
        for (u, n) in [("u1", "r1"), ("u2", "r2")] {
            a.roles.push(RoleRecord {
                uuid: u.into(),
                name: n.into(),
                members: vec![],
                default_members: vec![],
                policies: vec![],
            });
        }
        let mut h = HeaderMap::new();
        assert_eq!(from_headers(&h, &a).unwrap(), None);
        h.insert("role-tag", "r2, r1,r2".parse().unwrap());
        let tags = from_headers(&h, &a).unwrap().unwrap();
        assert_eq!(tags, vec!["u2", "u1"]);
        assert_eq!(header_value(&a, &tags).as_deref(), Some("r2,r1"));
        assert_eq!(header_value(&a, &["gone".into()]), None);
        h.insert("role-tag", "".parse().unwrap());
        assert_eq!(from_headers(&h, &a).unwrap(), Some(vec![]));
        h.insert("role-tag", "r3".parse().unwrap());
        assert!(matches!(
            from_headers(&h, &a),
            Err(Error::InvalidRoleTag(_))
        ));
    }
}
