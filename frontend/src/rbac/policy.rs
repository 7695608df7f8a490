//! Policy rules, the part of Aperture's language Manta's storage actions
//! need: `CAN action[, action ...]` (also `and` between actions, any case,
//! `*` for every action), optionally after a principal word
//! (`Fred can getobject`), which is ignored as Manta ignores it for roles,
//! and optionally a condition (`IF`, `WHEN` or `WHERE` and an Aperture
//! expression, [`super::conditions`]). Explicit resources and `CAN NOT`
//! (deny), which Manta did not use either, and conditions this store cannot
//! evaluate are refused when a policy is written: a rule must not
//! silently grant more (or less) than it says.

use super::conditions::{self, Context, Expr, Tok};
use std::fmt;

/// A Manta storage or job action (muskie's route names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    GetObject,
    PutObject,
    DeleteObject,
    GetDirectory,
    PutDirectory,
    DeleteDirectory,
    /// `putlink` (muskie's route name); `putsnaplink` is accepted for it.
    PutLink,
    CreateJob,
    GetJob,
    ManageJob,
    ListJobs,
    Mlogin,
}

const ALL: [Action; 12] = [
    Action::GetObject,
    Action::PutObject,
    Action::DeleteObject,
    Action::GetDirectory,
    Action::PutDirectory,
    Action::DeleteDirectory,
    Action::PutLink,
    Action::CreateJob,
    Action::GetJob,
    Action::ManageJob,
    Action::ListJobs,
    Action::Mlogin,
];

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::GetObject => "getobject",
            Action::PutObject => "putobject",
            Action::DeleteObject => "deleteobject",
            Action::GetDirectory => "getdirectory",
            Action::PutDirectory => "putdirectory",
            Action::DeleteDirectory => "deletedirectory",
            Action::PutLink => "putlink",
            Action::CreateJob => "createjob",
            Action::GetJob => "getjob",
            Action::ManageJob => "managejob",
            Action::ListJobs => "listjobs",
            Action::Mlogin => "mlogin",
        }
    }

    /// The action a name means (case-insensitive).
    pub fn parse(s: &str) -> Option<Action> {
        let lower = s.to_ascii_lowercase();
        if lower == "putsnaplink" {
            return Some(Action::PutLink);
        }
        ALL.into_iter().find(|a| a.name() == lower)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The actions one rule allows, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub actions: Vec<Action>,
    pub condition: Option<Expr>,
}

impl Rule {
    /// Does the rule allow `action` for a request with `ctx`? A condition
    /// testing a value the request lacks allows nothing.
    pub fn allows(&self, action: Action, ctx: &Context) -> bool {
        self.actions.contains(&action)
            && self
                .condition
                .as_ref()
                .is_none_or(|c| c.eval(ctx).unwrap_or(false))
    }
}

/// Parses one rule.
///
/// # Errors
/// A message naming what is wrong: no `CAN`, an unknown action, a
/// condition that cannot be evaluated, a rule over
/// [`super::MAX_RULE_LEN`] bytes.
pub fn parse_rule(text: &str) -> Result<Rule, String> {
    if text.len() > super::MAX_RULE_LEN {
        return Err(format!("rule longer than {} bytes", super::MAX_RULE_LEN));
    }
    let toks = conditions::tokenize(text).map_err(|e| format!("rule {text:?}: {e}"))?;
    let can = toks
        .iter()
        .position(|t| t.is("can"))
        .ok_or_else(|| format!("rule {text:?} has no CAN (write `CAN getobject`)"))?;
    if can > 1
        || toks[..can]
            .iter()
            .any(|t| !matches!(t, Tok::Word(_) | Tok::Quoted(_)))
    {
        return Err(format!(
            "rule {text:?}: only one principal word may come before CAN"
        ));
    }
    let rest = &toks[can + 1..];
    let cond_at = rest
        .iter()
        .position(|t| t.is("if") || t.is("when") || t.is("where"));
    let (action_toks, cond_toks) = match cond_at {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut actions = Vec::new();
    for (i, t) in action_toks.iter().enumerate() {
        match t {
            Tok::Comma => continue,
            t if t.is("and") => continue,
            t if i == 0 && t.is("not") => {
                return Err(format!(
                    "rule {text:?}: CAN NOT (an explicit deny) is not supported"
                ))
            }
            Tok::Word(w) if w == "*" => actions.extend(ALL),
            Tok::Word(w) => actions.push(Action::parse(w).ok_or_else(|| {
                format!(
                    "rule {text:?}: unknown action {w:?} (known: {}; resources \
                     are given by role tags, not in rules)",
                    ALL.map(Action::name).join(", ")
                )
            })?),
            other => return Err(format!("rule {text:?}: unexpected {other} among actions")),
        }
    }
    if actions.is_empty() {
        return Err(format!("rule {text:?} names no action"));
    }
    actions.sort_by_key(|a| ALL.iter().position(|b| b == a));
    actions.dedup();
    let condition = match cond_toks {
        None => None,
        Some(c) => Some(conditions::parse(c).map_err(|e| format!("rule {text:?}: {e}"))?),
    };
    Ok(Rule { actions, condition })
}

/// Does any of `rules` allow `action` for a request with `ctx`? Rules that
/// do not parse (written by a newer release, say) allow nothing.
pub fn any_allows<'a>(
    rules: impl IntoIterator<Item = &'a String>,
    action: Action,
    ctx: &Context,
) -> bool {
    rules
        .into_iter()
        .filter_map(|r| parse_rule(r).ok())
        .any(|r| r.allows(action, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_manta_rules() {
        let r = parse_rule("CAN getobject").unwrap();
        assert_eq!(r.actions, vec![Action::GetObject]);
        let r = parse_rule("can GetObject, putobject and putdirectory").unwrap();
        assert_eq!(
            r.actions,
            vec![Action::GetObject, Action::PutObject, Action::PutDirectory]
        );
        let ctx = Context::default();
        let r = parse_rule("Fred can putsnaplink").unwrap();
        assert!(r.allows(Action::PutLink, &ctx));
        let r = parse_rule("CAN *").unwrap();
        assert!(r.allows(Action::DeleteDirectory, &ctx) && r.allows(Action::Mlogin, &ctx));
        let r = parse_rule("CAN getobject, getdirectory IF sourceip = 10.0.0.0/8").unwrap();
        assert_eq!(r.actions, vec![Action::GetObject, Action::GetDirectory]);
        let inside = Context {
            sourceip: Some("10.9.8.7".parse().unwrap()),
            ..Context::default()
        };
        assert!(r.allows(Action::GetObject, &inside));
        assert!(!r.allows(Action::PutObject, &inside));
        assert!(!r.allows(Action::GetObject, &ctx));
        let r = parse_rule("can putobject when day in (Mon, Tue) and not fromjob = true").unwrap();
        assert!(r.condition.is_some());
    }

    #[test]
    fn refuses_what_it_cannot_evaluate() {
        assert!(parse_rule("getobject").is_err());
        assert!(parse_rule("CAN").is_err());
        assert!(parse_rule("CAN getobject IF region = x").is_err());
        assert!(parse_rule("CAN getobject IF").is_err());
        assert!(parse_rule("CAN NOT getobject").is_err());
        assert!(parse_rule("CAN getobject /acct/stor/x").is_err());
        assert!(parse_rule("CAN readobject").is_err());
        assert!(parse_rule("a b CAN getobject").is_err());
        assert!(parse_rule(&format!("CAN {}", "getobject ".repeat(200))).is_err());
    }

    #[test]
    fn any_allows_skips_bad_rules() {
        let rules = vec!["nonsense".to_string(), "CAN getdirectory".to_string()];
        let ctx = Context::default();
        assert!(any_allows(&rules, Action::GetDirectory, &ctx));
        assert!(!any_allows(&rules, Action::GetObject, &ctx));
    }
}
