//! RBAC end to end: a real `mantad dev` process, sub-users, roles and
//! policies made with `mantad account user|role|policy`, and node-manta
//! 5.4.2 (`MANTA_SUBUSER`, `MANTA_ROLE`, `mchmod`) and our SDK signing as
//! sub-users. Each refusal is checked for its code, and then shown to come
//! from the rule by changing the rule and seeing the same request pass.

use crate::auth_node_manta::{mantad_account, node_bin, start_dev, write_key, Out, Session};
use client_sdk::{Client, Config, PutOptions, RoleTagChange, SignUrlOptions, Signer};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// A `mantad account` command expected to fail; returns its stderr.
async fn mantad_account_fails(data: &Path, args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mantad"))
        .arg("account")
        .arg("--dev")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "mantad account {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A refusal by a command that prints the error's message, not its code
/// (node-manta's `mjob`, `mmpu`).
fn refused_msg(o: &Out, message: &str) {
    assert!(
        !o.ok && o.stderr.contains(message),
        "expected {message:?}, got ok={} stdout={} stderr={}",
        o.ok,
        o.stdout,
        o.stderr
    );
}

fn refused(o: &Out, code: &str) {
    assert!(
        !o.ok && o.stderr.contains(code),
        "expected {code}, got ok={} stdout={} stderr={}",
        o.ok,
        o.stdout,
        o.stderr
    );
}

/// Runs `cmd` as `who` until `done` holds (a change made by `mantad
/// account` reaches the frontend within its account cache's TTL).
async fn eventually(
    s: &Session,
    who: &[(&str, &str)],
    cmd: &str,
    args: &[&str],
    stdin: Option<&str>,
    done: impl Fn(&Out) -> bool,
) -> Out {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let o = s.run_with(cmd, args, stdin, who).await;
        if done(&o) || Instant::now() > deadline {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn sdk(url: &str, user: &str, subuser: Option<&str>, key: &Path, role: Option<&str>) -> Client {
    let mut cfg = Config::new(url, user);
    cfg.subuser = subuser.map(str::to_string);
    cfg.roles = role.map(str::to_string);
    cfg.attempts = 1;
    let signer = Signer::from_file(key).unwrap();
    Client::with_signer(cfg, Some(signer)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sub_users_roles_and_role_tags() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (mut dev, env) = start_dev(&data).await;
    let home = tmp.path().join("home");
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    for f in ["id_ed25519", "id_ed25519.pub"] {
        std::fs::copy(data.join("keys/dev").join(f), ssh.join(f)).unwrap();
    }
    let mut session_env: HashMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with("MANTA_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    session_env.insert("MANTA_LOG_LEVEL".into(), "fatal".into());
    let s = Session {
        bin: node_bin(),
        home: home.clone(),
        env: session_env,
    };
    let url = env["MANTA_URL"].clone();

    // The account's RBAC set-up, with the operator commands.
    let (alice_pub, alice_fp, _) = write_key(&ssh, "id_alice", ssh_key::Algorithm::Ed25519);
    mantad_account(
        &data,
        &["user", "add", "dev", "alice", "--ssh-key", &alice_pub],
    )
    .await;
    mantad_account(
        &data,
        &[
            "policy",
            "add",
            "dev",
            "read",
            "--rule",
            "CAN getobject, getdirectory",
        ],
    )
    .await;
    mantad_account(
        &data,
        &["policy", "add", "dev", "write", "--rule", "CAN putobject"],
    )
    .await;
    role(&data, "dev", "readers", "--default-member", "alice", "read").await;
    role(&data, "dev", "writers", "--member", "alice", "write").await;
    let roles = mantad_account(&data, &["role", "list", "dev", "--json"]).await;
    let roles: serde_json::Value = serde_json::from_str(&roles).unwrap();
    assert_eq!(roles[0]["name"], "readers");
    assert_eq!(roles[0]["members"], serde_json::json!(["alice"]));
    let users = mantad_account(&data, &["user", "list", "dev", "--json"]).await;
    assert!(users.contains(&alice_fp), "{users}");
    // Clear refusals.
    let e = mantad_account_fails(&data, &["role", "add", "dev", "r", "--member", "nobody"]).await;
    assert!(e.contains("nobody is not a user of account dev"), "{e}");
    let e = mantad_account_fails(&data, &["policy", "add", "dev", "p", "--rule", "CAN fly"]).await;
    assert!(e.contains("unknown action"), "{e}");
    let e = mantad_account_fails(&data, &["policy", "remove", "dev", "read"]).await;
    assert!(e.contains("used by role readers"), "{e}");

    // The owner tags with node-manta: mput --role-tag, mchmod.
    s.ok("mmkdir", &["~~/stor/shared"], None).await;
    s.ok("mput", &["~~/stor/shared/a"], Some("shared a\n"))
        .await;
    s.ok(
        "mput",
        &["--role-tag", "readers", "~~/stor/shared/tagged"],
        Some("t\n"),
    )
    .await;
    s.ok("mput", &["~~/stor/private"], Some("owner only\n"))
        .await;
    s.ok("mchmod", &["--", "+readers", "~~/stor/shared/a"], None)
        .await;
    s.ok(
        "mchmod",
        &["--", "+readers,writers", "~~/stor/shared"],
        None,
    )
    .await;
    let info = s.ok("minfo", &["~~/stor/shared/a"], None).await;
    assert!(
        info.to_ascii_lowercase().contains("role-tag: readers"),
        "{info}"
    );
    let info = s.ok("minfo", &["~~/stor/shared"], None).await;
    assert!(
        info.to_ascii_lowercase()
            .contains("role-tag: readers,writers"),
        "{info}"
    );
    let bad = s
        .run("mchmod", &["--", "+nosuch", "~~/stor/shared/a"], None)
        .await;
    refused(&bad, "InvalidRoleTag");

    // node-manta as the sub-user: MANTA_USER=dev, MANTA_SUBUSER=alice.
    let alice = [
        ("MANTA_SUBUSER", "alice"),
        ("MANTA_KEY_ID", alice_fp.as_str()),
    ];
    let o = s
        .run_with("mget", &["~~/stor/shared/a"], None, &alice)
        .await;
    assert!(o.ok, "{}", o.stderr);
    assert_eq!(o.stdout, "shared a\n");
    let o = s.run_with("mls", &["~~/stor/shared"], None, &alice).await;
    assert!(o.ok, "{}", o.stderr);
    assert_eq!(o.stdout, "a\ntagged\n");
    // Untagged: no role of alice tags it.
    refused(
        &s.run_with("mget", &["~~/stor/private"], None, &alice).await,
        "NoMatchingRoleTag",
    );
    refused(
        &s.run_with("mls", &["~~/stor"], None, &alice).await,
        "NoMatchingRoleTag",
    );
    // The default role (readers) tags the directory but may not put.
    let put = s
        .run_with("mput", &["~~/stor/shared/b"], Some("b\n"), &alice)
        .await;
    refused(&put, "AuthorizationFailed");
    // The Role header selects writers: the put passes, reads of entries
    // tagged only readers do not.
    let writer = [
        ("MANTA_SUBUSER", "alice"),
        ("MANTA_KEY_ID", alice_fp.as_str()),
        ("MANTA_ROLE", "writers"),
    ];
    let o = s
        .run_with("mput", &["~~/stor/shared/b"], Some("b\n"), &writer)
        .await;
    assert!(o.ok, "{}", o.stderr);
    refused(
        &s.run_with("mget", &["~~/stor/shared/a"], None, &writer)
            .await,
        "NoMatchingRoleTag",
    );
    let unknown = [
        ("MANTA_SUBUSER", "alice"),
        ("MANTA_KEY_ID", alice_fp.as_str()),
        ("MANTA_ROLE", "nosuch"),
    ];
    refused(
        &s.run_with("mget", &["~~/stor/shared/a"], None, &unknown)
            .await,
        "InvalidRole",
    );
    // The refusal of the default put was the rule's: allow putobject in
    // `read` and the same request passes.
    mantad_account(
        &data,
        &[
            "policy",
            "add",
            "dev",
            "read",
            "--rule",
            "CAN getobject, getdirectory, putobject",
        ],
    )
    .await;
    let o = eventually(
        &s,
        &alice,
        "mput",
        &["~~/stor/shared/c"],
        Some("c\n"),
        |o| o.ok,
    )
    .await;
    assert!(o.ok, "{}", o.stderr);
    // Without deleteobject, no delete of an entry its role tags; an entry
    // it made untagged is out of its reach.
    refused(
        &s.run_with("mrm", &["~~/stor/shared/a"], None, &alice).await,
        "AuthorizationFailed",
    );
    refused(
        &s.run_with("mget", &["~~/stor/shared/c"], None, &alice)
            .await,
        "NoMatchingRoleTag",
    );

    // Our SDK signing as the sub-user, with and without a role.
    let alice_key = ssh.join("id_alice");
    let a = sdk(&url, "dev", Some("alice"), &alice_key, None);
    assert_eq!(
        a.get_bytes("~~/stor/shared/tagged").await.unwrap().as_ref(),
        b"t\n"
    );
    let e = a.get_bytes("~~/stor/private").await.unwrap_err();
    assert_eq!(e.code(), "NoMatchingRoleTag");
    let w = sdk(&url, "dev", Some("alice"), &alice_key, Some("writers"));
    let e = w.get_bytes("~~/stor/shared/tagged").await.unwrap_err();
    assert_eq!(e.code(), "NoMatchingRoleTag");
    // Signed URLs as the sub-user (node-manta's msign and the SDK); the
    // `role` parameter selects roles like the `Role` header.
    let signed = s
        .run_with("msign", &["~~/stor/shared/tagged"], None, &alice)
        .await;
    assert!(signed.ok, "{}", signed.stderr);
    let r = reqwest::get(signed.stdout.trim()).await.unwrap();
    assert_eq!(r.status(), 200);
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let mut so = SignUrlOptions::new(&["GET"], expires);
    let u = format!("{url}{}", a.sign_url("~~/stor/shared/tagged", &so).unwrap());
    assert_eq!(reqwest::get(&u).await.unwrap().text().await.unwrap(), "t\n");
    so.role = Some("writers".into());
    let u = format!("{url}{}", a.sign_url("~~/stor/shared/tagged", &so).unwrap());
    let r = reqwest::get(&u).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("NoMatchingRoleTag"));
    // The owner's SDK: chmod (mchmod's +-=) and role tags on put.
    let owner = sdk(&url, "dev", None, &ssh.join("id_ed25519"), None);
    let tags = owner
        .chmod(
            "~~/stor/private",
            &RoleTagChange::parse("=readers").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(tags, vec!["readers"]);
    assert_eq!(
        a.get_bytes("~~/stor/private").await.unwrap().as_ref(),
        b"owner only\n"
    );
    owner
        .chmod(
            "~~/stor/private",
            &RoleTagChange::parse("-readers").unwrap(),
        )
        .await
        .unwrap();
    let e = a.get_bytes("~~/stor/private").await.unwrap_err();
    assert_eq!(e.code(), "NoMatchingRoleTag");
    let opts = PutOptions {
        headers: vec![("role-tag".into(), "readers".into())],
        ..Default::default()
    };
    owner
        .put_bytes("~~/stor/sdk", "via sdk".into(), &opts)
        .await
        .unwrap();
    assert_eq!(
        a.get_bytes("~~/stor/sdk").await.unwrap().as_ref(),
        b"via sdk"
    );

    // Another account with a role and a user of the same names: its tags
    // grant dev's alice nothing, while its own alice reads.
    let (bob_pub, _, _) = write_key(tmp.path(), "bob", ssh_key::Algorithm::Ed25519);
    let (bob_alice_pub, _, _) = write_key(tmp.path(), "bob_alice", ssh_key::Algorithm::Ed25519);
    mantad_account(&data, &["create", "bob", "--ssh-key", &bob_pub]).await;
    mantad_account(
        &data,
        &["user", "add", "bob", "alice", "--ssh-key", &bob_alice_pub],
    )
    .await;
    mantad_account(
        &data,
        &["policy", "add", "bob", "read", "--rule", "CAN getobject"],
    )
    .await;
    role(&data, "bob", "readers", "--default-member", "alice", "read").await;
    let bob = sdk(&url, "bob", None, &tmp.path().join("bob"), None);
    bob.put_bytes("/bob/stor/x", "bob's".into(), &opts)
        .await
        .unwrap();
    let bob_alice = sdk(
        &url,
        "bob",
        Some("alice"),
        &tmp.path().join("bob_alice"),
        None,
    );
    assert_eq!(
        bob_alice.get_bytes("/bob/stor/x").await.unwrap().as_ref(),
        b"bob's"
    );
    let e = a.get_bytes("/bob/stor/x").await.unwrap_err();
    assert_eq!(e.code(), "AuthorizationFailed");
    let o = s.run_with("mget", &["/bob/stor/x"], None, &alice).await;
    refused(&o, "AuthorizationFailed");
    // And bob's alice reaches nothing of dev's.
    let e = bob_alice.get_bytes("/dev/stor/shared/a").await.unwrap_err();
    assert_eq!(e.code(), "AuthorizationFailed");

    // Unsigned requests act as the owner's `anonymous` sub-user, if any.
    let anon_get = |p: &str| reqwest::get(format!("{url}/dev/stor/{p}"));
    assert_eq!(anon_get("shared/tagged").await.unwrap().status(), 403);
    mantad_account(&data, &["user", "add", "dev", "anonymous"]).await;
    role(&data, "dev", "web", "--default-member", "anonymous", "read").await;
    s.ok("mchmod", &["--", "+web", "~~/stor/shared/tagged"], None)
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let r = loop {
        let r = anon_get("shared/tagged").await.unwrap();
        if r.status() == 200 || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(r.text().await.unwrap(), "t\n");
    let r = anon_get("shared/a").await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("NoMatchingRoleTag"));

    // Removing a role, then a key, takes effect.
    mantad_account(&data, &["role", "remove", "dev", "writers"]).await;
    let o = eventually(&s, &writer, "mget", &["~~/stor/shared/a"], None, |o| {
        o.stderr.contains("InvalidRole")
    })
    .await;
    refused(&o, "InvalidRole");
    mantad_account(&data, &["user", "key", "remove", "dev", "alice", &alice_fp]).await;
    let o = eventually(&s, &alice, "mget", &["~~/stor/shared/a"], None, |o| !o.ok).await;
    refused(&o, "KeyDoesNotExist");
    mantad_account(&data, &["user", "remove", "dev", "alice"]).await;
    let o = eventually(&s, &alice, "mget", &["~~/stor/shared/a"], None, |o| {
        o.stderr.contains("UserDoesNotExist")
    })
    .await;
    refused(&o, "UserDoesNotExist");

    dev.start_kill().unwrap();
    let _ = dev.wait().await;
}

/// A node-manta session of the dev account and the sub-user `alice` (key
/// `id_alice`), over a fresh `mantad dev`.
async fn dev_with_alice(
    tmp: &Path,
) -> (tokio::process::Child, Session, std::path::PathBuf, String) {
    let data = tmp.join("data");
    let (dev, env) = start_dev(&data).await;
    let home = tmp.join("home");
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    for f in ["id_ed25519", "id_ed25519.pub"] {
        std::fs::copy(data.join("keys/dev").join(f), ssh.join(f)).unwrap();
    }
    let mut session_env: HashMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with("MANTA_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    session_env.insert("MANTA_LOG_LEVEL".into(), "fatal".into());
    let s = Session {
        bin: node_bin(),
        home,
        env: session_env,
    };
    let (alice_pub, alice_fp, _) = write_key(&ssh, "id_alice", ssh_key::Algorithm::Ed25519);
    mantad_account(
        &data,
        &["user", "add", "dev", "alice", "--ssh-key", &alice_pub],
    )
    .await;
    (dev, s, data, alice_fp)
}

async fn policy(data: &Path, name: &str, rule: &str) {
    mantad_account(data, &["policy", "add", "dev", name, "--rule", rule]).await;
}

/// `mantad account role add LOGIN NAME --member|--default-member USER
/// --policy POLICY`.
async fn role(data: &Path, login: &str, name: &str, flag: &str, user: &str, policy: &str) {
    mantad_account(
        data,
        &["role", "add", login, name, flag, user, "--policy", policy],
    )
    .await;
}

/// Aperture conditions: a rule allowing reads from 127.0.0.1 lets alice
/// read; the same rule for a range without it refuses her (and nothing
/// else changed); a time-of-day rule covering the whole day allows, a
/// date rule in the past refuses. Conditions that cannot be evaluated are
/// refused when written.
#[tokio::test(flavor = "multi_thread")]
async fn aperture_conditions_source_ip_and_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut dev, s, data, alice_fp) = dev_with_alice(tmp.path()).await;
    let alice = [
        ("MANTA_SUBUSER", "alice"),
        ("MANTA_KEY_ID", alice_fp.as_str()),
    ];
    policy(&data, "read", "CAN getobject IF sourceip = 127.0.0.1").await;
    role(&data, "dev", "readers", "--default-member", "alice", "read").await;
    s.ok(
        "mput",
        &["--role-tag", "readers", "~~/stor/c"],
        Some("conditional\n"),
    )
    .await;
    let o = eventually(&s, &alice, "mget", &["~~/stor/c"], None, |o| o.ok).await;
    assert_eq!(o.stdout, "conditional\n", "{}", o.stderr);
    // The same rule for a range without 127.0.0.1: refused by the rule.
    policy(
        &data,
        "read",
        "CAN getobject IF sourceip in (10.0.0.0/8, \"fd00::/8\")",
    )
    .await;
    let o = eventually(&s, &alice, "mget", &["~~/stor/c"], None, |o| !o.ok).await;
    refused(&o, "AuthorizationFailed");
    // A client's X-Forwarded-For is not its source address.
    let o = s
        .run_with(
            "mget",
            &["-H", "x-forwarded-for: 10.1.2.3", "~~/stor/c"],
            None,
            &alice,
        )
        .await;
    refused(&o, "AuthorizationFailed");
    // Our SDK is refused the same way.
    let a = sdk(
        &s.env["MANTA_URL"],
        "dev",
        Some("alice"),
        &s.home.join(".ssh/id_alice"),
        None,
    );
    let e = a.get_bytes("~~/stor/c").await.unwrap_err();
    assert_eq!(e.code(), "AuthorizationFailed");
    policy(
        &data,
        "read",
        "CAN getobject IF sourceip = 127.0.0.0/8 and time >= 00:00:00 and time <= 23:59:59",
    )
    .await;
    let o = eventually(&s, &alice, "mget", &["~~/stor/c"], None, |o| o.ok).await;
    assert_eq!(o.stdout, "conditional\n", "{}", o.stderr);
    assert_eq!(
        a.get_bytes("~~/stor/c").await.unwrap().as_ref(),
        b"conditional\n"
    );
    let e = mantad_account_fails(
        &data,
        &[
            "policy",
            "add",
            "dev",
            "x",
            "--rule",
            "CAN getobject IF day = 8",
        ],
    )
    .await;
    assert!(e.contains("not a day"), "{e}");
    let e = mantad_account_fails(
        &data,
        &[
            "policy",
            "add",
            "dev",
            "x",
            "--rule",
            "CAN getobject IF region = east",
        ],
    )
    .await;
    assert!(e.contains("unknown condition"), "{e}");
    policy(&data, "read", "CAN getobject WHEN date < 2001-01-01").await;
    let o = eventually(&s, &alice, "mget", &["~~/stor/c"], None, |o| !o.ok).await;
    refused(&o, "AuthorizationFailed");
    dev.start_kill().unwrap();
    let _ = dev.wait().await;
}

/// Sub-users and jobs: createjob needs a role allowing it (and putobject,
/// putdirectory: `MissingPermission`); the job is tagged with the
/// creator's roles, so it can get and manage it; it cannot hand the job an
/// input it cannot read.
#[tokio::test(flavor = "multi_thread")]
async fn sub_user_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut dev, s, data, alice_fp) = dev_with_alice(tmp.path()).await;
    policy(&data, "read", "CAN getobject").await;
    policy(&data, "create-only", "CAN createjob").await;
    mantad_account(
        &data,
        &[
            "policy",
            "add",
            "dev",
            "run",
            "--rule",
            "CAN createjob, getjob, managejob, listjobs",
            "--rule",
            "CAN putobject, putdirectory",
        ],
    )
    .await;
    for (name, pol) in [
        ("readers", "read"),
        ("creators", "create-only"),
        ("runners", "run"),
    ] {
        role(&data, "dev", name, "--member", "alice", pol).await;
    }
    s.ok(
        "mput",
        &["--role-tag", "readers", "~~/stor/readable"],
        Some("r\n"),
    )
    .await;
    s.ok("mput", &["~~/stor/private"], Some("secret\n")).await;
    let as_alice = |role: &'static str| {
        [
            ("MANTA_SUBUSER", "alice"),
            ("MANTA_KEY_ID", alice_fp.as_str()),
            ("MANTA_ROLE", role),
        ]
    };
    let create = ["create", "--open", "-m", "cat"];
    refused_msg(
        &s.run_with("mjob", &create, Some(""), &as_alice("readers"))
            .await,
        "is not allowed to",
    );
    refused_msg(
        &s.run_with("mjob", &create, Some(""), &as_alice("creators"))
            .await,
        "missing role allowing putobject",
    );
    let o = s
        .run_with("mjob", &create, Some(""), &as_alice("runners,readers"))
        .await;
    assert!(o.ok, "{}", o.stderr);
    let id = o.stdout.trim().to_string();
    assert_eq!(id.len(), 36, "{}", o.stdout);
    let both = as_alice("runners,readers");
    let got = s.run_with("mjob", &["get", &id], None, &both).await;
    assert!(got.ok && got.stdout.contains(&id), "{}", got.stderr);
    let listed = s.run_with("mjob", &["list"], None, &both).await;
    assert!(
        listed.ok && listed.stdout.contains(&id),
        "{}",
        listed.stderr
    );
    // With only readers active, the job's tags match but allow no getjob.
    refused_msg(
        &s.run_with("mjob", &["get", &id], None, &as_alice("readers"))
            .await,
        "is not allowed to",
    );
    // An input alice cannot read is refused; one she can is taken.
    let o = s
        .run_with(
            "mjob",
            &["addinputs", "--open", &id],
            Some("/dev/stor/private\n"),
            &both,
        )
        .await;
    refused_msg(&o, "no active role of");
    let o = s
        .run_with(
            "mjob",
            &["addinputs", "--open", &id],
            Some("/dev/stor/readable\n"),
            &both,
        )
        .await;
    assert!(o.ok, "{}", o.stderr);
    let inputs = s.run_with("mjob", &["inputs", &id], None, &both).await;
    assert_eq!(inputs.stdout, "/dev/stor/readable\n", "{}", inputs.stderr);
    // The job's task toolbox (its requests carry the task credential the
    // agent mints) acts as alice with the job's roles, not as the account:
    // it reads what readers tag, not the private object.
    let key =
        metadata_tier::net::ClusterKey::load(&frontend::cluster::cluster_key_path(&data)).unwrap();
    let url = s.env["MANTA_URL"].clone();
    let toolbox_get = |job: String, path: &'static str| {
        let token = jobs::task_token::mint(&key, "dev", &job, "t", Duration::from_secs(60));
        let url = format!("{url}{path}");
        async move {
            reqwest::Client::new()
                .get(url)
                .header(jobs::task_token::HEADER, token)
                .send()
                .await
                .unwrap()
        }
    };
    let r = toolbox_get(id.clone(), "/dev/stor/readable").await;
    assert_eq!(r.status(), 200);
    let r = toolbox_get(id.clone(), "/dev/stor/private").await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("NoMatchingRoleTag"));
    // The owner's own job is not alice's to see; its toolbox is the
    // account's.
    let own = s.ok("mjob", &create, Some("")).await;
    let r = toolbox_get(own.trim().to_string(), "/dev/stor/private").await;
    assert_eq!(r.text().await.unwrap(), "secret\n");
    refused_msg(
        &s.run_with("mjob", &["get", own.trim()], None, &both).await,
        "no active role of",
    );
    let o = s.run_with("mjob", &["cancel", &id], None, &both).await;
    assert!(o.ok, "{}", o.stderr);
    s.ok("mjob", &["cancel", own.trim()], None).await;
    dev.start_kill().unwrap();
    let _ = dev.wait().await;
}

/// Sub-users and multipart uploads: each call is decided as `putobject`
/// on the target; the committed object carries the create's role tags.
#[tokio::test(flavor = "multi_thread")]
async fn sub_user_multipart_uploads() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut dev, s, data, alice_fp) = dev_with_alice(tmp.path()).await;
    policy(&data, "read", "CAN getobject, getdirectory").await;
    policy(&data, "write", "CAN putobject").await;
    role(&data, "dev", "readers", "--default-member", "alice", "read").await;
    role(&data, "dev", "writers", "--member", "alice", "write").await;
    s.ok(
        "mmkdir",
        &["--role-tag", "writers,readers", "~~/stor/up"],
        None,
    )
    .await;
    s.ok("mmkdir", &["~~/stor/closed"], None).await;
    let writer = [
        ("MANTA_SUBUSER", "alice"),
        ("MANTA_KEY_ID", alice_fp.as_str()),
        ("MANTA_ROLE", "writers"),
    ];
    let reader = [
        ("MANTA_SUBUSER", "alice"),
        ("MANTA_KEY_ID", alice_fp.as_str()),
    ];
    refused_msg(
        &s.run_with("mmpu", &["create", "~~/stor/closed/x"], None, &writer)
            .await,
        "no active role of",
    );
    refused_msg(
        &s.run_with("mmpu", &["create", "~~/stor/up/x"], None, &reader)
            .await,
        "is not allowed to",
    );
    let o = s
        .run_with(
            "mmpu",
            &["create", "-H", "role-tag: readers", "~~/stor/up/x"],
            None,
            &writer,
        )
        .await;
    assert!(o.ok, "{}", o.stderr);
    let id = o.stdout.trim().to_string();
    // A tag naming no role of the account is refused at create.
    let o = s
        .run_with(
            "mmpu",
            &["create", "-H", "role-tag: nosuch", "~~/stor/up/y"],
            None,
            &writer,
        )
        .await;
    refused_msg(&o, "role nosuch does not exist");
    // Without writers active, alice cannot drive it (node-manta's mmpu
    // prints only "locating upload"; the SDK shows the code).
    let a = sdk(
        &s.env["MANTA_URL"],
        "dev",
        Some("alice"),
        &s.home.join(".ssh/id_alice"),
        None,
    );
    let e = a.upload_state(&id).await.unwrap_err();
    assert_eq!(e.code(), "AuthorizationFailed");
    let o = s
        .run_with("mmpu", &["upload", &id, "0"], Some("part"), &reader)
        .await;
    refused_msg(&o, "locating upload");
    let o = s
        .run_with("mmpu", &["upload", &id, "0"], Some("one part\n"), &writer)
        .await;
    assert!(o.ok, "{}", o.stderr);
    let etag = o.stdout.trim().to_string();
    let listed = s.run_with("mmpu", &["list"], None, &writer).await;
    assert!(!listed.ok, "{}", listed.stdout);
    let e = a.list_uploads().await.unwrap_err();
    assert_eq!(e.code(), "AuthorizationFailed");
    let got = s.run_with("mmpu", &["get", &id], None, &writer).await;
    assert!(got.ok && got.stdout.contains("created"), "{}", got.stderr);
    let o = s
        .run_with("mmpu", &["commit", &id, &etag], None, &writer)
        .await;
    assert!(o.ok, "{}", o.stderr);
    // The object carries the create's role tag: alice reads it with her
    // default role through it.
    let info = s.ok("minfo", &["~~/stor/up/x"], None).await;
    assert!(
        info.to_ascii_lowercase().contains("role-tag: readers"),
        "{info}"
    );
    let o = s.run_with("mget", &["~~/stor/up/x"], None, &reader).await;
    assert_eq!(o.stdout, "one part\n", "{}", o.stderr);
    // The owner's create with a role tag, through our SDK's read.
    let own = s
        .ok(
            "mmpu",
            &["create", "-H", "role-tag: readers", "~~/stor/owned"],
            None,
        )
        .await;
    let own = own.trim().to_string();
    let e = s.ok("mmpu", &["upload", &own, "0"], Some("owned\n")).await;
    s.ok("mmpu", &["commit", &own, e.trim()], None).await;
    assert_eq!(
        a.get_bytes("~~/stor/owned").await.unwrap().as_ref(),
        b"owned\n"
    );
    dev.start_kill().unwrap();
    let _ = dev.wait().await;
}
