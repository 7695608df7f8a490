//! Properties of rule parsing: any text is parsed or refused with a
//! message, never a panic or a deep recursion; a rule that parses
//! evaluates without panicking for any request; and a parsed `sourceip`
//! range holds exactly for the addresses inside it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::conditions::Context;
use super::policy::{parse_rule, Action};
use client_sdk::prop::{config, edits, junk, mutate_str};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

const GOOD: [&str; 6] = [
    "CAN getobject IF sourceip = 10.0.0.0/8",
    "can putobject, getobject when day in (Mon, Tue) and time >= 09:00:00",
    "CAN * WHERE not (fromjob = true or overwrite = true)",
    "CAN getdirectory if date < 2030-01-01T00:00:00Z and user-agent != curl",
    "CAN getobject IF sourceip::ip in (\"fe80::/10\", 127.0.0.1) OR referer = x",
    "Fred can listjobs if activeRoles contains readers and method = GET",
];

fn ctx(ip: IpAddr, now_ms: u64) -> Context {
    Context {
        sourceip: Some(ip),
        now_ms,
        method: "GET".into(),
        active_roles: vec!["readers".into()],
        ..Context::default()
    }
}

fn evaluate_any(text: &str, now_ms: u64) {
    if let Ok(rule) = parse_rule(text) {
        for c in [
            ctx(IpAddr::V4(Ipv4Addr::LOCALHOST), now_ms),
            Context::default(),
        ] {
            let _ = rule.allows(Action::GetObject, &c);
        }
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn junk_never_panics(text in junk(), now in any::<u64>()) {
        evaluate_any(&text, now);
        evaluate_any(&format!("CAN getobject IF {text}"), now);
    }

    #[test]
    fn edited_rules_never_panic(i in 0..GOOD.len(), e in edits(), now in any::<u64>()) {
        evaluate_any(&mutate_str(GOOD[i], &e), now);
    }

    #[test]
    fn nesting_is_bounded(depth in 0usize..5000) {
        let text = format!("CAN getobject IF {}day = 1{}", "(".repeat(depth), ")".repeat(depth));
        let nots = format!("CAN getobject IF {}day = 1", "not ".repeat(depth));
        // Short enough to parse: fine; deeper: refused, not a stack overflow.
        let _ = parse_rule(&text);
        let _ = parse_rule(&nots);
    }

    #[test]
    fn ranges_hold_exactly_their_addresses(net in any::<u32>(), bits in 0u8..=32, ip in any::<u32>()) {
        let net = Ipv4Addr::from(net);
        let rule = parse_rule(&format!("CAN getobject IF sourceip = {net}/{bits}")).unwrap();
        let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
        let inside = (ip & mask) == (u32::from(net) & mask);
        let c = ctx(IpAddr::V4(Ipv4Addr::from(ip)), 0);
        prop_assert_eq!(rule.allows(Action::GetObject, &c), inside);
        let mapped = ctx(IpAddr::V6(Ipv4Addr::from(ip).to_ipv6_mapped()), 0);
        prop_assert_eq!(rule.allows(Action::GetObject, &mapped), inside);
    }
}
