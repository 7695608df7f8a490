//! The m* commands over HTTPS against a cluster whose certificate comes
//! from a dev CA: trusted through `MANTA_CA_FILE` (what `mantad dev`'s
//! env.sh exports) or `--ca-file`, refused without it, and not verified
//! at all with `-i` or `MANTA_TLS_INSECURE` (node-manta's flags).

use crate::harness::{ours, TestCluster, USER};
use std::process::Output;

/// Runs `bin` with the test account's Manta environment and `extra`,
/// but no CA unless `extra` names one.
async fn run(tc: &TestCluster, bin: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(ours(bin))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &tc.home)
        .env("MANTA_URL", &tc.cluster.url)
        .env("MANTA_USER", USER)
        .env("MANTA_KEY_ID", &tc.key_id)
        .envs(extra.iter().copied())
        .output()
        .await
        .unwrap()
}

fn says(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn m_commands_verify_the_server_with_the_ca_file() {
    let tc = TestCluster::start_with(1, |o| o.tls = true).await;
    assert!(tc.cluster.url.starts_with("https://"));
    let ca = tc.ca_file.clone().unwrap();
    let ca = ca.to_str().unwrap();
    let o = run(
        &tc,
        "mmkdir",
        &["-p", "~~/stor/tls/a"],
        &[("MANTA_CA_FILE", ca)],
    )
    .await;
    assert!(o.status.success(), "{}", says(&o));
    let o = run(&tc, "mls", &["--ca-file", ca, "~~/stor/tls"], &[]).await;
    assert!(o.status.success(), "{}", says(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "a/\n");

    let o = run(&tc, "mls", &["~~/stor/tls"], &[]).await;
    assert!(!o.status.success());
    assert!(says(&o).contains("UnknownIssuer"), "{}", says(&o));

    for (args, extra) in [
        (&["-i", "~~/stor/tls"][..], &[][..]),
        (&["~~/stor/tls"][..], &[("MANTA_TLS_INSECURE", "1")][..]),
    ] {
        let o = run(&tc, "mls", args, extra).await;
        assert!(o.status.success(), "{args:?} {extra:?}: {}", says(&o));
    }

    let o = run(
        &tc,
        "mls",
        &["~~/stor/tls"],
        &[("MANTA_CA_FILE", "/no/such/ca.pem")],
    )
    .await;
    assert!(!o.status.success());
    assert!(says(&o).contains("/no/such/ca.pem"), "{}", says(&o));
}
