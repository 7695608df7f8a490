//! Policy rules, the part of Aperture's language Manta's storage actions
//! need: `CAN action[, action ...]` (also `and` between actions, any case,
//! `*` for every action), optionally after a principal word
//! (`Fred can getobject`), which is ignored as Manta ignores it for roles.
//! Conditions (`IF ...`, `WHEN ...`, `WHERE ...`) are refused when a policy
//! is written: a rule this store cannot evaluate must not silently grant
//! more (or less) than it says.

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

/// The actions one rule allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub actions: Vec<Action>,
}

impl Rule {
    pub fn allows(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }
}

/// Parses one rule.
///
/// # Errors
/// A message naming what is wrong: no `CAN`, an unknown action, a
/// condition, a rule over [`super::MAX_RULE_LEN`] bytes.
pub fn parse_rule(text: &str) -> Result<Rule, String> {
    if text.len() > super::MAX_RULE_LEN {
        return Err(format!("rule longer than {} bytes", super::MAX_RULE_LEN));
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let can = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("can"))
        .ok_or_else(|| format!("rule {text:?} has no CAN (write `CAN getobject`)"))?;
    if can > 1 {
        return Err(format!(
            "rule {text:?}: only one principal word may come before CAN"
        ));
    }
    let mut actions = Vec::new();
    for w in &words[can + 1..] {
        let lower = w.to_ascii_lowercase();
        match lower.as_str() {
            "and" => continue,
            "if" | "when" | "where" => {
                return Err(format!(
                    "rule {text:?}: conditions ({w} ...) are not supported"
                ))
            }
            "*" => actions.extend(ALL),
            _ => actions.push(Action::parse(w).ok_or_else(|| {
                format!(
                    "rule {text:?}: unknown action {w:?} (known: {})",
                    ALL.map(Action::name).join(", ")
                )
            })?),
        }
    }
    if actions.is_empty() {
        return Err(format!("rule {text:?} names no action"));
    }
    actions.dedup();
    Ok(Rule { actions })
}

/// Does any of `rules` allow `action`? Rules that do not parse (written by
/// a newer release, say) allow nothing.
pub fn any_allows<'a>(rules: impl IntoIterator<Item = &'a String>, action: Action) -> bool {
    rules
        .into_iter()
        .filter_map(|r| parse_rule(r).ok())
        .any(|r| r.allows(action))
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
        let r = parse_rule("Fred can putsnaplink").unwrap();
        assert!(r.allows(Action::PutLink));
        let r = parse_rule("CAN *").unwrap();
        assert!(r.allows(Action::DeleteDirectory) && r.allows(Action::Mlogin));
    }

    #[test]
    fn refuses_what_it_cannot_evaluate() {
        assert!(parse_rule("getobject").is_err());
        assert!(parse_rule("CAN").is_err());
        assert!(parse_rule("CAN getobject IF sourceip = 10.0.0.0/8").is_err());
        assert!(parse_rule("CAN readobject").is_err());
        assert!(parse_rule("a b CAN getobject").is_err());
        assert!(parse_rule(&format!("CAN {}", "getobject ".repeat(200))).is_err());
    }

    #[test]
    fn any_allows_skips_bad_rules() {
        let rules = vec!["nonsense".to_string(), "CAN getdirectory".to_string()];
        assert!(any_allows(&rules, Action::GetDirectory));
        assert!(!any_allows(&rules, Action::GetObject));
    }
}
