//! The phases of `mjob create`, built as node-manta's `do_create` builds
//! them: option style (`-m`/`-r`, each taking the phase properties given
//! since the previous `-m`/`-r`) or expression style (`MAP ^ MAP ^^ REDUCE`,
//! the properties applying to every phase).

use client_sdk::{Phase, PhaseType};

/// One phase option, in command-line order.
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseOpt {
    Map(String),
    Reduce(String),
    Asset(String),
    Count(u32),
    Disk(u32),
    Image(String),
    Init(String),
    Memory(u32),
}

/// Option style: properties go to the next `-m`/`-r`; properties after the
/// last one are dropped, as node-manta drops them.
pub fn from_options(order: &[PhaseOpt]) -> Vec<Phase> {
    let mut phases = Vec::new();
    let mut next = Phase::default();
    for o in order {
        match o {
            PhaseOpt::Asset(a) => next.assets.get_or_insert_with(Vec::new).push(a.clone()),
            PhaseOpt::Count(n) => next.count = Some(*n),
            PhaseOpt::Disk(n) => next.disk = Some(*n),
            PhaseOpt::Image(s) => next.image = Some(s.clone()),
            PhaseOpt::Init(s) => next.init = Some(s.clone()),
            PhaseOpt::Memory(n) => next.memory = Some(*n),
            PhaseOpt::Map(exec) | PhaseOpt::Reduce(exec) => {
                let mut p = std::mem::take(&mut next);
                p.exec = exec.clone();
                if matches!(o, PhaseOpt::Map(_)) {
                    // Only reduce phases have reducers.
                    p.count = None;
                } else {
                    p.phase_type = PhaseType::Reduce;
                }
                phases.push(p);
            }
        }
    }
    phases
}

/// The option-style phase options that bind to no phase: those after the
/// last `-m`/`-r`, and `--count` given to a map phase (only reduce phases
/// have reducers), named as typed, for a warning.
pub fn unbound(order: &[PhaseOpt]) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for o in order {
        match o {
            PhaseOpt::Asset(a) => pending.push(format!("--asset {a}")),
            PhaseOpt::Count(n) => pending.push(format!("--count {n}")),
            PhaseOpt::Disk(n) => pending.push(format!("--disk {n}")),
            PhaseOpt::Image(s) => pending.push(format!("--image {s}")),
            PhaseOpt::Init(s) => pending.push(format!("--init {s}")),
            PhaseOpt::Memory(n) => pending.push(format!("--memory {n}")),
            PhaseOpt::Map(_) => {
                out.extend(pending.drain(..).filter(|p| p.starts_with("--count")));
            }
            PhaseOpt::Reduce(_) => pending.clear(),
        }
    }
    out.extend(pending);
    out
}

/// Properties of every phase in expression style.
#[derive(Debug, Clone, Default)]
pub struct Props {
    pub assets: Vec<String>,
    /// `--count`: reducers of a `^^` phase (node-manta's default 1).
    pub count: u32,
    pub disk: Option<u32>,
    pub image: Option<String>,
    pub init: Option<String>,
    pub memory: Option<u32>,
}

/// `^^^` (or more carets) separates a reduce phase of `len - 2`
/// reducers; `^^` one of `--count` reducers.
fn reduce_separator(arg: &str) -> Option<usize> {
    (arg.len() >= 2 && arg.bytes().all(|b| b == b'^')).then(|| arg.len() - 2)
}

/// Expression style: words are joined with spaces into one exec; `^`
/// starts a map phase, `^^` a reduce phase.
pub fn from_expression(args: &[String], props: &Props) -> Vec<Phase> {
    let mut phases = Vec::new();
    let mut exec = String::new();
    let mut kind = PhaseType::Map;
    let mut count = props.count;
    let mut push = |exec: &mut String, kind: PhaseType, count: u32| {
        if exec.is_empty() {
            return;
        }
        phases.push(Phase {
            phase_type: kind,
            exec: std::mem::take(exec),
            count: (kind == PhaseType::Reduce && count > 1).then_some(count),
            assets: (!props.assets.is_empty()).then(|| props.assets.clone()),
            disk: props.disk,
            image: props.image.clone(),
            init: props.init.clone(),
            memory: props.memory,
            ..Phase::default()
        });
    };
    for a in args {
        if a == "^" {
            push(&mut exec, kind, count);
            count = props.count;
            kind = PhaseType::Map;
        } else if let Some(n) = reduce_separator(a) {
            push(&mut exec, kind, count);
            count = match n {
                0 => props.count,
                n => u32::try_from(n).unwrap_or(u32::MAX),
            };
            kind = PhaseType::Reduce;
        } else {
            if !exec.is_empty() {
                exec.push(' ');
            }
            exec.push_str(a);
        }
    }
    push(&mut exec, kind, count);
    phases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_binding_to_nothing_are_named() {
        let order = [
            PhaseOpt::Count(2),
            PhaseOpt::Map("m".into()),
            PhaseOpt::Memory(512),
            PhaseOpt::Reduce("r".into()),
            PhaseOpt::Count(3),
        ];
        assert_eq!(unbound(&order), ["--count 2", "--count 3"]);
        let ok = [PhaseOpt::Count(3), PhaseOpt::Reduce("r".into())];
        assert!(unbound(&ok).is_empty());
    }

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    fn props() -> Props {
        Props {
            count: 1,
            ..Props::default()
        }
    }

    #[test]
    fn options_take_the_properties_given_before_them() {
        let order = vec![
            PhaseOpt::Memory(512),
            PhaseOpt::Asset("/u/stor/a".into()),
            PhaseOpt::Map("wc".into()),
            PhaseOpt::Count(3),
            PhaseOpt::Init("true".into()),
            PhaseOpt::Reduce("cat".into()),
            PhaseOpt::Disk(16),
        ];
        let p = from_options(&order);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].phase_type, PhaseType::Map);
        assert_eq!(p[0].exec, "wc");
        assert_eq!(p[0].memory, Some(512));
        assert_eq!(p[0].assets, Some(vec!["/u/stor/a".to_string()]));
        assert_eq!(p[0].count, None);
        assert_eq!(p[1].phase_type, PhaseType::Reduce);
        assert_eq!(p[1].count, Some(3));
        assert_eq!(p[1].init.as_deref(), Some("true"));
        assert_eq!(p[1].memory, None, "properties do not carry over");
        assert_eq!(p[1].disk, None, "trailing properties are dropped");
    }

    #[test]
    fn count_before_a_map_is_not_sent() {
        let p = from_options(&[PhaseOpt::Count(2), PhaseOpt::Map("wc".into())]);
        assert_eq!(p[0].count, None);
    }

    #[test]
    fn expression_joins_words_and_splits_on_carets() {
        let p = from_expression(&words("grep foo ^ cut -d: -f1 ^^ sort -n"), &props());
        let got: Vec<(PhaseType, &str, Option<u32>)> = p
            .iter()
            .map(|p| (p.phase_type, p.exec.as_str(), p.count))
            .collect();
        assert_eq!(
            got,
            vec![
                (PhaseType::Map, "grep foo", None),
                (PhaseType::Map, "cut -d: -f1", None),
                (PhaseType::Reduce, "sort -n", None),
            ]
        );
    }

    #[test]
    fn extra_carets_and_count_set_reducers() {
        let p = from_expression(&words("wc ^^^^ cat ^^^ cat ^^ cat"), &props());
        let counts: Vec<Option<u32>> = p.iter().map(|p| p.count).collect();
        assert_eq!(counts, vec![None, Some(2), None, None]);
        let with_count = Props {
            count: 4,
            ..Props::default()
        };
        let p = from_expression(&words("wc ^^ cat ^^^ cat"), &with_count);
        let counts: Vec<Option<u32>> = p.iter().map(|p| p.count).collect();
        assert_eq!(counts, vec![None, Some(4), None], "^^^ means 1 reducer");
    }

    #[test]
    fn expression_starting_with_reduce_and_properties_on_all() {
        let pr = Props {
            assets: vec!["/u/stor/s.sh".into()],
            count: 1,
            memory: Some(2048),
            image: Some(">=13.1.0".into()),
            ..Props::default()
        };
        let p = from_expression(&words("^^ wc -l ^"), &pr);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].phase_type, PhaseType::Reduce);
        assert_eq!(p[0].exec, "wc -l");
        assert_eq!(p[0].memory, Some(2048));
        assert_eq!(p[0].image.as_deref(), Some(">=13.1.0"));
        assert_eq!(p[0].assets, Some(vec!["/u/stor/s.sh".to_string()]));
    }

    #[test]
    fn carets_inside_words_are_exec() {
        let p = from_expression(&words("grep ^^x"), &props());
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].exec, "grep ^^x");
    }
}
