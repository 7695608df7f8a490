//! A linearizability checker for one register with compare-and-set on
//! etags (Wing and Gong's search with Lowe's memoisation, as Porcupine
//! does it): is there a total order of the operations, each placed between
//! its call and its return, in which every answer is what a single copy of
//! the register would have given?
//!
//! An operation whose outcome the client never learnt (a write that ended
//! in an error that says it may have applied) has no return: it may take
//! effect at any point after its call, or never.

use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// A read that saw `value` under `etag`.
    Read { value: u64, etag: String },
    /// A write of `value` if the etag was `expected`: it applied and made
    /// `etag`.
    CasOk {
        expected: String,
        value: u64,
        etag: String,
    },
    /// The condition failed.
    CasFailed { expected: String },
    /// Unknown: applied or not.
    CasUnknown { expected: String, value: u64 },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub op: Op,
    pub call: u128,
    /// `None`: never returned (unknown outcome).
    pub ret: Option<u128>,
}

/// The register: its value, and its etag unless an unknown write may have
/// replaced it (then the next read tells).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    value: u64,
    etag: Option<String>,
}

fn step(s: &State, op: &Op) -> Option<State> {
    let etag_is = |e: &String| s.etag.as_ref().is_none_or(|x| x == e);
    match op {
        Op::Read { value, etag } => (s.value == *value && etag_is(etag)).then(|| State {
            value: *value,
            etag: Some(etag.clone()),
        }),
        Op::CasOk {
            expected,
            value,
            etag,
        } => etag_is(expected).then(|| State {
            value: *value,
            etag: Some(etag.clone()),
        }),
        Op::CasFailed { expected } => (s.etag.as_ref() != Some(expected)).then(|| s.clone()),
        Op::CasUnknown { expected, value } => etag_is(expected).then_some(State {
            value: *value,
            etag: None,
        }),
    }
}

/// Whether `history`, starting from `value` under `etag`, is linearizable.
pub fn check(history: &[Event], value: u64, etag: &str) -> bool {
    let n = history.len();
    let mut done = vec![false; n];
    let mut seen = HashSet::new();
    let start = State {
        value,
        etag: Some(etag.to_string()),
    };
    search(history, &mut done, start, &mut seen)
}

fn key(done: &[bool], s: &State) -> (Vec<u64>, State) {
    let mut bits = vec![0u64; done.len().div_ceil(64)];
    for (i, d) in done.iter().enumerate() {
        if *d {
            bits[i / 64] |= 1 << (i % 64);
        }
    }
    (bits, s.clone())
}

fn search(
    h: &[Event],
    done: &mut Vec<bool>,
    state: State,
    seen: &mut HashSet<(Vec<u64>, State)>,
) -> bool {
    // Every operation that returned is placed: unknown ones may never be.
    let earliest_ret = h
        .iter()
        .zip(done.iter())
        .filter(|(_, d)| !**d)
        .filter_map(|(e, _)| e.ret)
        .min();
    let Some(earliest_ret) = earliest_ret else {
        return true;
    };
    if !seen.insert(key(done, &state)) {
        return false;
    }
    // The candidates to go next: called before the first pending return.
    for i in 0..h.len() {
        if done[i] || h[i].call > earliest_ret {
            continue;
        }
        if let Some(next) = step(&state, &h[i].op) {
            done[i] = true;
            if search(h, done, next, seen) {
                return true;
            }
            done[i] = false;
        }
    }
    false
}

#[test]
fn the_checker_tells_a_stale_read() {
    let ev = |op, call, ret| Event {
        op,
        call,
        ret: Some(ret),
    };
    let write = Op::CasOk {
        expected: "e0".into(),
        value: 1,
        etag: "e1".into(),
    };
    let fresh = Op::Read {
        value: 1,
        etag: "e1".into(),
    };
    let stale = Op::Read {
        value: 0,
        etag: "e0".into(),
    };
    // A read after an acknowledged write sees it.
    assert!(check(
        &[ev(write.clone(), 0, 1), ev(fresh.clone(), 2, 3)],
        0,
        "e0"
    ));
    // A read that began after the write returned and saw the old value.
    assert!(!check(
        &[ev(write.clone(), 0, 1), ev(stale.clone(), 2, 3)],
        0,
        "e0"
    ));
    // Overlapping, either order is fine.
    assert!(check(&[ev(write.clone(), 0, 5), ev(stale, 1, 2)], 0, "e0"));
    // Two writes from the same etag cannot both succeed.
    let twin = Op::CasOk {
        expected: "e0".into(),
        value: 2,
        etag: "e2".into(),
    };
    assert!(!check(&[ev(write, 0, 5), ev(twin, 1, 6)], 0, "e0"));
    // An unknown write may have applied: a later read of its value is fine.
    let unknown = Event {
        op: Op::CasUnknown {
            expected: "e0".into(),
            value: 7,
        },
        call: 0,
        ret: None,
    };
    let read7 = ev(
        Op::Read {
            value: 7,
            etag: "e7".into(),
        },
        10,
        11,
    );
    assert!(check(&[unknown.clone(), read7], 0, "e0"));
    // ... and it may never have.
    let read0 = ev(
        Op::Read {
            value: 0,
            etag: "e0".into(),
        },
        10,
        11,
    );
    assert!(check(&[unknown.clone(), read0], 0, "e0"));
    // But nothing makes a value nobody wrote.
    assert!(!check(&[unknown, ev(fresh, 10, 11)], 0, "e0"));
}
