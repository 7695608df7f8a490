//! Our commands with RBAC: `mchmod`, `mput --role-tag`, `mmkdir
//! --role-tag` as the owner, and the m* commands as a sub-user (`--user`,
//! `--role`), against an in-process cluster whose account has a sub-user,
//! roles and policies.

use crate::harness::{fails_with, ok, ours, stdout, TestCluster, USER};
use frontend::rbac::admin::RoleSpec;

#[tokio::test]
async fn mchmod_role_tags_and_sub_user_commands() {
    let tc = TestCluster::start().await;
    let accounts = &tc.cluster.state.accounts;
    // A key for the sub-user beside the account's in HOME/.ssh.
    let key = tc.ssh_dir().join("id_sub");
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "sub", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    accounts.add_user(USER, "sam").await.unwrap();
    let fp = accounts
        .add_user_key(USER, "sam", &public)
        .await
        .unwrap()
        .md5;
    let rules = |r: &str| vec![r.to_string()];
    accounts
        .put_policy(USER, "read", &rules("CAN getobject, getdirectory"))
        .await
        .unwrap();
    accounts
        .put_policy(USER, "write", &rules("CAN putobject, putdirectory"))
        .await
        .unwrap();
    let spec = |default: bool, policy: &str| RoleSpec {
        members: vec!["sam".into()],
        default_members: if default { vec!["sam".into()] } else { vec![] },
        policies: vec![policy.into()],
    };
    accounts
        .put_role(USER, "ro", &spec(true, "read"))
        .await
        .unwrap();
    accounts
        .put_role(USER, "rw", &spec(false, "write"))
        .await
        .unwrap();

    let run = |bin: &'static str, args: Vec<String>| {
        let tc = &tc;
        async move {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            tc.run_with(ours(bin), &a, None).await
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let f = tc.local("f.txt");
    std::fs::write(&f, "file body\n").unwrap();
    let f = f.to_string_lossy().to_string();

    // The owner: a tagged directory, a tagged object, an untagged one.
    ok(&run("mmkdir", s(&["--role-tag", "ro,rw", "~~/stor/team"])).await);
    ok(&run(
        "mput",
        s(&["-f", &f, "--role-tag", "ro", "~~/stor/team/doc"]),
    )
    .await);
    ok(&run("mput", s(&["-f", &f, "~~/stor/team/plain"])).await);
    let info = stdout(&run("minfo", s(&["~~/stor/team"])).await);
    assert!(info.contains("role-tag: ro,rw"), "{info}");

    // As the sub-user (--user, -k), default role ro.
    let sam = |extra: &[&str], rest: &[&str]| {
        let mut v = s(&["--user", "sam", "-k", &fp]);
        v.extend(s(extra));
        v.extend(s(rest));
        v
    };
    let got = ok(&run("mget", sam(&[], &["~~/stor/team/doc"])).await);
    assert_eq!(got, "file body\n");
    let listed = ok(&run("mls", sam(&[], &["~~/stor/team"])).await);
    assert_eq!(listed, "doc\nplain\n");
    fails_with(
        &run("mget", sam(&[], &["~~/stor/team/plain"])).await,
        "NoMatchingRoleTag",
    );
    fails_with(
        &run("mput", sam(&[], &["-f", &f, "~~/stor/team/new"])).await,
        "AuthorizationFailed",
    );
    // --role rw: the put passes (rw tags the directory, write allows it).
    ok(&run(
        "mput",
        sam(&["--role", "rw"], &["-f", &f, "~~/stor/team/new"]),
    )
    .await);
    fails_with(
        &run("mget", sam(&["--role", "rw"], &["~~/stor/team/doc"])).await,
        "NoMatchingRoleTag",
    );

    // mchmod as the owner: + then = then -, each seen by the sub-user.
    ok(&run("mchmod", s(&["--", "+ro", "~~/stor/team/plain"])).await);
    let info = stdout(&run("minfo", s(&["~~/stor/team/plain"])).await);
    assert!(info.contains("role-tag: ro"), "{info}");
    assert_eq!(
        ok(&run("mget", sam(&[], &["~~/stor/team/plain"])).await),
        "file body\n"
    );
    ok(&run("mchmod", s(&["--", "=rw", "~~/stor/team/plain"])).await);
    fails_with(
        &run("mget", sam(&[], &["~~/stor/team/plain"])).await,
        "NoMatchingRoleTag",
    );
    ok(&run("mchmod", s(&["--", "+ro", "~~/stor/team/plain"])).await);
    ok(&run("mchmod", s(&["--", "-ro", "~~/stor/team/plain"])).await);
    fails_with(
        &run("mget", sam(&[], &["~~/stor/team/plain"])).await,
        "NoMatchingRoleTag",
    );
    fails_with(
        &run("mchmod", s(&["--", "+nope", "~~/stor/team/plain"])).await,
        "InvalidRoleTag",
    );
    fails_with(
        &run("mchmod", s(&["--", "ro", "~~/stor/team/plain"])).await,
        "operation should be",
    );
    // Removing the role takes effect at once on this frontend.
    accounts.remove_role(USER, "ro").await.unwrap();
    fails_with(
        &run("mget", sam(&[], &["~~/stor/team/doc"])).await,
        "NoMatchingRoleTag",
    );
}
