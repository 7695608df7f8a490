use super::*;

/// What the storage role flattens in, reduced to one key.
#[derive(Deserialize, Debug, Default)]
struct Extra {
    #[serde(default)]
    beside: u32,
}

const BASE: &str = "listen = \"127.0.0.1:7200\"\ndata = \"/tmp/n\"\n\
                    metadata_shards = [\"http://127.0.0.1:7100\"]\n";

/// A cluster secret file shared by this module's tests.
fn secret_file() -> &'static str {
    static FILE: std::sync::OnceLock<(tempfile::TempDir, String)> = std::sync::OnceLock::new();
    let (_, path) = FILE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.key");
        ClusterKey::load_or_create(&path).unwrap();
        let path = path.to_string_lossy().into_owned();
        (dir, path)
    });
    path
}

fn parse(extra: &str) -> std::result::Result<NodeConfig<Extra>, toml::de::Error> {
    let secret = format!("cluster_secret_file = {:?}\n", secret_file());
    toml::from_str(&format!("{BASE}{secret}{extra}"))
}

#[test]
fn defaults() {
    let cfg = parse("").unwrap();
    let s = cfg.validate().unwrap();
    assert_eq!(s.heartbeat, Duration::from_secs(2));
    assert_eq!(s.ring.shards().len(), 1);
    assert_eq!(cfg.vnodes, metadata_tier::ring::DEFAULT_VNODES);
    assert_eq!(cfg.extra.beside, 0);
    assert_eq!(s.scrub, ScrubSettings::default());
    assert_eq!(s.scrub.rate_bytes_per_sec, 16_000_000);
    assert_eq!(s.scrub.interval, Duration::from_secs(86_400));
}

#[test]
fn scrub_keys() {
    let s = parse("scrub_rate_mb = 0.5\nscrub_interval = \"90m\"")
        .unwrap()
        .validate()
        .unwrap();
    assert_eq!(s.scrub.rate_bytes_per_sec, 500_000);
    assert_eq!(s.scrub.interval, Duration::from_secs(5400));
    let off = parse("scrub_rate_mb = 0").unwrap().validate().unwrap();
    assert_eq!(off.scrub.rate_bytes_per_sec, 0);
}

#[test]
fn units_and_flattened_keys() {
    let cfg = parse("heartbeat_interval = \"200ms\"\nbeside = 3").unwrap();
    assert_eq!(
        cfg.validate().unwrap().heartbeat,
        Duration::from_millis(200)
    );
    assert_eq!(cfg.extra.beside, 3);
    for (text, want) in [("1m", 60), ("1h", 3600), ("45s", 45)] {
        assert_eq!(duration("k", text).unwrap(), Duration::from_secs(want));
    }
}

#[test]
fn refused() {
    let unknown = parse("nope = 1").unwrap_err().to_string();
    assert!(unknown.contains("unknown field `nope`"), "{unknown}");
    for (extra, key) in [
        ("heartbeat_interval = \"0s\"", "heartbeat_interval"),
        ("heartbeat_interval = \"2x\"", "heartbeat_interval"),
        ("advertise = \"10.0.0.1:7200\"", "advertise"),
        ("id = \"a/b\"", "id"),
        ("vnodes = 0", "vnodes"),
        ("scrub_rate_mb = -1", "scrub_rate_mb"),
        ("scrub_rate_mb = nan", "scrub_rate_mb"),
        ("scrub_interval = \"0s\"", "scrub_interval"),
        ("scrub_interval = \"daily\"", "scrub_interval"),
    ] {
        let err = parse(extra).unwrap().validate().unwrap_err().to_string();
        assert!(err.contains(key), "{extra}: {err}");
    }
}

#[test]
fn wildcard_listen_needs_advertise() {
    for listen in ["0.0.0.0:7200", "[::]:7200"] {
        let mut cfg = parse("").unwrap();
        cfg.listen = listen.parse().unwrap();
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("advertise") && err.contains(listen), "{err}");
        cfg.advertise = Some("http://10.0.0.5:7200".into());
        let s = cfg.validate().unwrap();
        assert_eq!(s.advertise.as_deref(), Some("http://10.0.0.5:7200"));
    }
}

#[test]
fn node_id_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = parse("").unwrap().validate().unwrap();
    s.data = dir.path().join("n");
    let first = s.node_id().unwrap();
    assert_eq!(s.node_id().unwrap(), first);
    s.id = Some("stor-1".into());
    assert_eq!(s.node_id().unwrap(), "stor-1");
}
