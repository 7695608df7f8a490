use super::*;

const BASE: &str = "listen = \"0.0.0.0:8080\"\nmetadata_shards = [\"http://127.0.0.1:1\"]\n";

/// A cluster secret file shared by this module's tests.
fn secret_file() -> &'static str {
    static FILE: std::sync::OnceLock<(tempfile::TempDir, String)> = std::sync::OnceLock::new();
    let (_, path) = FILE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.key");
        metadata_tier::net::ClusterKey::load_or_create(&path).unwrap();
        let path = path.to_string_lossy().into_owned();
        (dir, path)
    });
    path
}

fn parse(extra: &str) -> FrontendConfig {
    let secret = format!("cluster_secret_file = {:?}\n", secret_file());
    toml::from_str(&format!("{BASE}{secret}{extra}")).unwrap()
}

#[test]
fn units() {
    assert_eq!(duration("k", "500ms").unwrap(), Duration::from_millis(500));
    assert_eq!(duration("k", "2s").unwrap(), Duration::from_secs(2));
    assert_eq!(duration("k", "1m").unwrap(), Duration::from_secs(60));
    assert_eq!(duration("k", "1h").unwrap(), Duration::from_secs(3600));
    assert!(duration("k", "2x").is_err());
    assert!(duration("k", "0s").is_err());
    assert_eq!(size("k", "5GiB").unwrap(), 5 << 30);
    assert_eq!(size("k", "64KiB").unwrap(), 64 << 10);
    assert_eq!(size("k", "1TiB").unwrap(), 1 << 40);
    assert_eq!(size("k", "5GB").unwrap(), 5_000_000_000);
    assert_eq!(size("k", "4096").unwrap(), 4096);
    assert_eq!(size("k", "0").unwrap(), 0);
    let err = size("reserve", "1XB").unwrap_err().to_string();
    assert!(err.contains("reserve"), "{err}");
}

#[test]
fn frontend_config_defaults() {
    // Every request is authenticated, so any listen address is fine.
    let s = parse("").validate().unwrap();
    assert_eq!(s.api.default_durability, 2);
    assert_eq!(s.api.max_durability, 9);
    assert_eq!(s.api.max_streaming_bytes, 5 << 30);
    assert_eq!(s.api.upload_idle, Duration::from_secs(45));
    assert_eq!(s.api.heartbeat_timeout, Duration::from_secs(10));
    assert_eq!(s.api.reserve_bytes, 0);
    assert_eq!(s.api.jobs.slots_per_node, 4);
    assert_eq!(s.ring.shards().len(), 1);
    assert!(s.s3_listen.is_none() && s.api.s3_secrets.is_none());
    assert_eq!(s.s3.region, "us-east-1");
    assert!(s.tls.is_none() && s.plain_listen.is_none());
    assert_eq!(
        s.api.listener_limits.tls_handshake_timeout,
        Duration::from_secs(10)
    );
}

#[test]
fn tls_and_plain_listeners() {
    let s = parse(
        "tls_cert_file = \"/etc/c.pem\"\ntls_key_file = \"/etc/k.pem\"\n\
         tls_handshake_timeout = \"3s\"\nplain_listen = \"0.0.0.0:8081\"\n\
         s3_listen = \"0.0.0.0:9000\"\ns3_plain_listen = \"0.0.0.0:9001\"",
    )
    .validate()
    .unwrap();
    let tls = s.tls.unwrap();
    assert_eq!(
        (tls.cert.to_str(), tls.key.to_str()),
        (Some("/etc/c.pem"), Some("/etc/k.pem"))
    );
    assert_eq!(s.plain_listen, Some("0.0.0.0:8081".parse().unwrap()));
    assert_eq!(s.s3_plain_listen, Some("0.0.0.0:9001".parse().unwrap()));
    assert_eq!(
        s.api.listener_limits.tls_handshake_timeout,
        Duration::from_secs(3)
    );
}

#[test]
fn refused_with_the_key() {
    let secret = format!("cluster_secret_file = {:?}\n", secret_file());
    let empty: FrontendConfig = toml::from_str(&format!(
        "listen = \"127.0.0.1:8080\"\nmetadata_shards = []\n{secret}"
    ))
    .unwrap();
    assert!(empty.validate().is_err());
    let no_secret = "listen = \"127.0.0.1:8080\"\nmetadata_shards = [\"http://127.0.0.1:1\"]";
    let err = toml::from_str::<FrontendConfig>(no_secret).unwrap_err();
    assert!(err.to_string().contains("cluster_secret_file"), "{err}");
    let mut wrong = parse("");
    wrong.cluster_secret_file = "/nonexistent/cluster.key".into();
    let err = format!("{:#}", wrong.validate().unwrap_err());
    assert!(err.contains("cluster_secret_file"), "{err}");
    let unknown = toml::from_str::<FrontendConfig>(&format!("{BASE}colour = 1")).unwrap_err();
    assert!(unknown.to_string().contains("unknown field `colour`"));
    for (extra, key) in [
        ("max_durability = 0", "max_durability"),
        ("default_durability = 0", "default_durability"),
        (
            "default_durability = 3\nmax_durability = 2",
            "default_durability",
        ),
        ("job_slots_per_node = 0", "job_slots_per_node"),
        ("upload_idle_timeout = \"0s\"", "upload_idle_timeout"),
        ("heartbeat_timeout = \"10 parsecs\"", "heartbeat_timeout"),
        ("max_streaming_size = \"0\"", "max_streaming_size"),
        ("s3_listen = \"0.0.0.0:8080\"", "s3_listen"),
        ("tls_cert_file = \"/c.pem\"", "tls_key_file"),
        ("tls_key_file = \"/k.pem\"", "tls_cert_file"),
        ("plain_listen = \"0.0.0.0:8081\"", "plain_listen"),
        ("s3_plain_listen = \"0.0.0.0:8081\"", "s3_plain_listen"),
        (
            "tls_cert_file = \"/c\"\ntls_key_file = \"/k\"\nplain_listen = \"0.0.0.0:8080\"",
            "plain_listen",
        ),
        ("tls_handshake_timeout = \"0s\"", "tls_handshake_timeout"),
        ("vnodes = 0", "vnodes"),
    ] {
        let err = format!("{:#}", parse(extra).validate().unwrap_err());
        assert!(err.contains(key), "{extra}: {err}");
    }
}
