//! The RBAC decision, without I/O (as libmanta's `authorize` over mahi's
//! records): a sub-user's active roles for a request, then whether one of
//! them is among an entry's role tags and has a policy allowing the action.

use super::conditions::Context;
use super::policy::{any_allows, Action};
use crate::error::Error;
use crate::records::AccountRecord;

/// The role uuids a sub-user acts with. `requested` is the `Role` header:
/// absent, the user's default roles; `*`, every role the user is a member
/// of; else the named roles, each of which must exist in the account
/// (`InvalidRole` otherwise, as muskie) and have the user as a member.
///
/// # Errors
/// `InvalidRole`.
pub(crate) fn active_roles(
    account: &AccountRecord,
    user: &str,
    requested: Option<&str>,
) -> Result<Vec<String>, Error> {
    let member = |r: &&crate::rbac::RoleRecord| r.members.iter().any(|m| m == user);
    let requested = requested.map(str::trim).filter(|r| !r.is_empty());
    let Some(requested) = requested else {
        return Ok(account
            .roles
            .iter()
            .filter(|r| r.default_members.iter().any(|m| m == user))
            .filter(member)
            .map(|r| r.uuid.clone())
            .collect());
    };
    if requested == "*" {
        return Ok(account
            .roles
            .iter()
            .filter(member)
            .map(|r| r.uuid.clone())
            .collect());
    }
    let mut out = Vec::new();
    for name in requested
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let role = account
            .role(name)
            .ok_or_else(|| Error::InvalidRole(format!("role {name} does not exist")))?;
        if !member(&role) {
            return Err(Error::InvalidRole(format!(
                "{user} is not a member of role {name}"
            )));
        }
        out.push(role.uuid.clone());
    }
    Ok(out)
}

/// The roles a job's toolbox acts with: those its creator had active when
/// it made the job, as far as the creator still exists and is still a
/// member of them.
///
/// # Errors
/// `AuthorizationFailed` when the user was removed.
pub(crate) fn job_roles(
    account: &AccountRecord,
    user: &str,
    roles: &[String],
) -> Result<Vec<String>, Error> {
    if account.user(user).is_none() {
        return Err(Error::AuthorizationFailed(format!(
            "{}/{user}, whose job this is, no longer exists",
            account.login
        )));
    }
    Ok(account
        .roles
        .iter()
        .filter(|r| roles.contains(&r.uuid) && r.members.iter().any(|m| m == user))
        .map(|r| r.uuid.clone())
        .collect())
}

/// May a sub-user with `active` roles of `account` do `action` on an entry
/// tagged with `tags` (role uuids), in a request with `ctx` (its
/// conditions' values; the active roles' names are filled in here)?
///
/// # Errors
/// `NoMatchingRoleTag` when no active role is among the tags;
/// `AuthorizationFailed` when the matching roles' policies do not allow
/// the action.
pub(crate) fn check(
    account: &AccountRecord,
    who: &str,
    active: &[String],
    tags: &[String],
    action: Action,
    path: &str,
    ctx: &Context,
) -> Result<(), Error> {
    let matching: Vec<_> = account
        .roles
        .iter()
        .filter(|r| active.contains(&r.uuid) && tags.contains(&r.uuid))
        .collect();
    if matching.is_empty() {
        return Err(Error::NoMatchingRoleTag(format!(
            "no active role of {who} is a role tag of {path}"
        )));
    }
    let mut ctx = ctx.clone();
    ctx.active_roles = active
        .iter()
        .filter_map(|u| account.role_name(u))
        .map(str::to_string)
        .collect();
    let allowed = matching.iter().any(|role| {
        role.policies
            .iter()
            .filter_map(|p| account.policy(p))
            .any(|p| any_allows(&p.rules, action, &ctx))
    });
    if allowed {
        Ok(())
    } else {
        Err(Error::AuthorizationFailed(format!(
            "{who} is not allowed to {action} {path}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{PolicyRecord, RoleRecord};

    fn account() -> AccountRecord {
        let mut a = AccountRecord::new("acct");
        a.policies.push(PolicyRecord {
            uuid: "p-read".into(),
            name: "read".into(),
            rules: vec!["CAN getobject, getdirectory".into()],
        });
        a.policies.push(PolicyRecord {
            uuid: "p-write".into(),
            name: "write".into(),
            rules: vec!["CAN putobject".into()],
        });
        a.roles.push(RoleRecord {
            uuid: "r-readers".into(),
            name: "readers".into(),
            members: vec!["alice".into(), "bob".into()],
            default_members: vec!["alice".into()],
            policies: vec!["read".into()],
        });
        a.roles.push(RoleRecord {
            uuid: "r-writers".into(),
            name: "writers".into(),
            members: vec!["alice".into()],
            default_members: vec![],
            policies: vec!["write".into()],
        });
        a
    }

    #[test]
    fn active_roles_follow_the_role_header() {
        let a = account();
        assert_eq!(active_roles(&a, "alice", None).unwrap(), vec!["r-readers"]);
        assert!(active_roles(&a, "bob", None).unwrap().is_empty());
        assert_eq!(
            active_roles(&a, "alice", Some("*")).unwrap(),
            vec!["r-readers", "r-writers"]
        );
        assert_eq!(
            active_roles(&a, "alice", Some("writers")).unwrap(),
            vec!["r-writers"]
        );
        assert!(matches!(
            active_roles(&a, "bob", Some("writers")),
            Err(Error::InvalidRole(_))
        ));
        assert!(matches!(
            active_roles(&a, "alice", Some("nosuch")),
            Err(Error::InvalidRole(_))
        ));
    }

    #[test]
    fn tags_then_rules_decide() {
        let a = account();
        let readers = vec!["r-readers".to_string()];
        let both = vec!["r-readers".to_string(), "r-writers".to_string()];
        let ctx = Context::default();
        let ok =
            |active: &[String], tags: &[String], act| check(&a, "u", active, tags, act, "/p", &ctx);
        assert!(ok(&readers, &readers, Action::GetObject).is_ok());
        assert!(matches!(
            ok(&readers, &readers, Action::PutObject),
            Err(Error::AuthorizationFailed(_))
        ));
        assert!(matches!(
            ok(&readers, &[], Action::GetObject),
            Err(Error::NoMatchingRoleTag(_))
        ));
        assert!(matches!(
            ok(&both, &readers, Action::PutObject),
            Err(Error::AuthorizationFailed(_))
        ));
        assert!(ok(&both, &both, Action::PutObject).is_ok());
        // A tag naming another account's role (an unknown uuid here).
        assert!(matches!(
            ok(&readers, &["r-of-b".to_string()], Action::GetObject),
            Err(Error::NoMatchingRoleTag(_))
        ));
    }
}
