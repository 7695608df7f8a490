//! Properties of the key layout (see the module doc of `shard`): entry keys
//! are injective, a directory's prefix scan holds exactly its entries
//! (sorted by name) and gives back each name, count keys never meet entry
//! keys; stored envelopes never panic the decoder and round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::keys::{count_key, decode_count, dir_prefix, entry_key, Envelope};
use super::{decode_item, prefix_end};
use crate::wire::{EntryKey, Keyspace};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 512;
    }
    c
}

fn space() -> impl Strategy<Value = Keyspace> {
    proptest::sample::select(vec![
        Keyspace::Objects,
        Keyspace::Nodes,
        Keyspace::Accounts,
        Keyspace::Buckets,
        Keyspace::Jobs,
    ])
}

/// Directories and names close to each other: shared prefixes, `/`, and
/// the bytes next to NUL and the separators.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ab/\u{1}\u{7f}\u{ff}é]{0,6}", any::<String>(),]
}

fn key() -> impl Strategy<Value = EntryKey> {
    (space(), text(), text()).prop_map(|(space, dir, name)| EntryKey { space, dir, name })
}

proptest! {
    #![proptest_config(config())]

    /// NUL or an empty name is refused; anything else has a key.
    #[test]
    fn entry_keys_refuse_only_nul_and_empty(k in key()) {
        let bad = k.name.is_empty() || k.name.contains('\0') || k.dir.contains('\0');
        prop_assert_eq!(entry_key(&k).is_err(), bad);
    }

    #[test]
    fn entry_keys_are_injective(a in key(), b in key()) {
        if let (Ok(ka), Ok(kb)) = (entry_key(&a), entry_key(&b)) {
            prop_assert_eq!(ka == kb, a == b);
        }
    }

    /// A directory's scan bounds hold its entries and nothing else, and the
    /// name comes back out of the key.
    #[test]
    fn prefixes_hold_exactly_their_entries(k in key(), space in space(), dir in text()) {
        let Ok(ek) = entry_key(&k) else { return Ok(()) };
        let Ok(prefix) = dir_prefix(space, &dir) else { return Ok(()) };
        let inside = ek.starts_with(&prefix) && ek < prefix_end(&prefix);
        prop_assert_eq!(inside, k.space == space && k.dir == dir);
        prop_assert_eq!(ek.starts_with(&prefix), inside);
        if inside {
            let env = br#"{"v":1,"etag":"e","mtime_ms":1,"value":null}"#;
            prop_assert_eq!(decode_item(&prefix, &ek, env).unwrap().name, k.name.clone());
        }
        // Count keys live under their own first byte.
        prop_assert_ne!(count_key(space, &dir)[0], ek[0]);
    }

    /// Within a directory, key order is name byte order (listings and
    /// markers rely on it).
    #[test]
    fn keys_sort_by_name(space in space(), dir in text(), a in text(), b in text()) {
        let ka = entry_key(&EntryKey { space, dir: dir.clone(), name: a.clone() });
        let kb = entry_key(&EntryKey { space, dir, name: b.clone() });
        if let (Ok(ka), Ok(kb)) = (ka, kb) {
            prop_assert_eq!(ka.cmp(&kb), a.as_bytes().cmp(b.as_bytes()));
        }
    }

    #[test]
    fn count_keys_are_distinct(a in space(), da in text(), b in space(), db in text()) {
        prop_assert_eq!(count_key(a, &da) == count_key(b, &db), a == b && da == db);
    }

    /// Whatever RocksDB hands back, decoding is an error or a value.
    #[test]
    fn stored_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Envelope::decode(&raw);
        let n = decode_count(&raw);
        if raw.len() != 8 {
            prop_assert_eq!(n, 0);
        }
    }

    #[test]
    fn envelopes_round_trip(etag in any::<String>(), mtime_ms in any::<u64>(), s in any::<String>(), n in any::<i64>()) {
        let env = Envelope {
            v: 1,
            etag,
            mtime_ms,
            value: serde_json::json!({ "s": s, "n": n }),
        };
        let raw = serde_json::to_vec(&env).unwrap();
        prop_assert_eq!(Envelope::decode(&raw).unwrap(), env);
    }
}
