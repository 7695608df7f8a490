//! The S3 API through real clients: boto3 scripts (`tests/s3/*.py`), the
//! aws CLI and s3cmd, run against a [`TestCluster`]'s S3 port.

use frontend::testkit::{TestCluster, OTHER, USER};
use std::path::PathBuf;
use std::process::{Command, Output};

/// A cluster with S3 credentials for `tester` and `other`.
pub struct S3Env {
    pub tc: TestCluster,
    pub url: String,
    pub creds: Vec<(String, String, String)>,
    /// Scratch files and the aws CLI / s3cmd config files.
    pub work: tempfile::TempDir,
}

impl S3Env {
    pub async fn start() -> S3Env {
        Self::start_with(|_| {}).await
    }

    /// As [`Self::start`], with `tweak` changing the cluster's options.
    pub async fn start_with(tweak: impl FnOnce(&mut frontend::testkit::Options)) -> S3Env {
        let tc = TestCluster::start_with(3, tweak).await;
        let url = tc.cluster.s3_url.clone().expect("S3 listener");
        let mut creds = Vec::new();
        for login in [USER, OTHER] {
            let key = &tc.s3_keys[login];
            creds.push((
                login.to_string(),
                key.access_key_id.clone(),
                key.secret.clone(),
            ));
        }
        let work = tempfile::tempdir().unwrap();
        let aws_cfg = "[default]\nregion = us-east-1\ns3 =\n    signature_version = s3v4\n";
        std::fs::write(work.path().join("aws.cfg"), aws_cfg).unwrap();
        let host = url.trim_start_matches("http://");
        let (_, id, secret) = &creds[0];
        let s3cmd_cfg = format!(
            "[default]\naccess_key = {id}\nsecret_key = {secret}\nhost_base = {host}\n\
             host_bucket = {host}\nuse_https = False\nbucket_location = us-east-1\n\
             signature_v2 = False\n"
        );
        std::fs::write(work.path().join("s3cmd.cfg"), s3cmd_cfg).unwrap();
        S3Env {
            tc,
            url,
            creds,
            work,
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.work.path().join(name).display().to_string()
    }

    /// The environment every client command runs with.
    pub fn envs(&self) -> Vec<(String, String)> {
        let (_, id, secret) = &self.creds[0];
        let (_, oid, osecret) = &self.creds[1];
        [
            ("S3_URL", self.url.as_str()),
            ("AWS_ACCESS_KEY_ID", id),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("OTHER_ACCESS_KEY_ID", oid),
            ("OTHER_SECRET_ACCESS_KEY", osecret),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", &self.path("aws.cfg")),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("NO_PROXY", "*"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Runs `program args` with the S3 environment in `tests/s3`; panics
    /// with its output unless it exits 0.
    pub async fn run(&self, program: &str, args: &[&str]) -> String {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(scripts_dir()).envs(self.envs());
        // Plain HTTP on loopback: no CA bundle is needed, and rclone's AWS
        // SDK refuses to start with one set.
        cmd.env_remove("AWS_CA_BUNDLE");
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        check(program, args, &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a boto3 script of `tests/s3`, which prints `OK` when done.
    pub async fn python(&self, script: &str, args: &[&str]) {
        let mut all = vec![script];
        all.extend_from_slice(args);
        let out = self.run("python3", &all).await;
        assert!(out.lines().any(|l| l == "OK"), "{script}: {out}");
    }
}

fn check(program: &str, args: &[&str], out: &Output) {
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("s3")
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_buckets_and_objects_boto3() {
    let env = S3Env::start().await;
    env.python("basic.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_listing_10k_keys_boto3() {
    let t = std::time::Instant::now();
    let env = S3Env::start().await;
    eprintln!("cluster up in {:?}", t.elapsed());
    env.python("listing.py", &[]).await;
    eprintln!("script done at {:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_multipart_100mib_boto3() {
    let env = S3Env::start().await;
    env.python("multipart.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_copy_object_boto3() {
    let env = S3Env::start().await;
    env.python("copy_object.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_errors_boto3() {
    let env = S3Env::start().await;
    env.python("errors.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_presigned_get_and_put() {
    let env = S3Env::start().await;
    env.python("presign.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_sigv2_header_presigned_and_aws_cli_presign() {
    let env = S3Env::start().await;
    env.python("sigv2.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_max_keys_zero_create_again_complete_again_boto3() {
    let env = S3Env::start().await;
    env.python("semantics.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_anonymous_gets_xml_error_with_request_id() {
    let env = S3Env::start().await;
    let resp = env
        .tc
        .http
        .get(format!("{}/some-bucket/key", env.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let id = frontend::testkit::header(&resp, "x-amz-request-id");
    assert_eq!(
        frontend::testkit::header(&resp, "content-type"),
        "application/xml"
    );
    let body = resp.text().await.unwrap();
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(
        body.contains(&format!("<RequestId>{id}</RequestId>")),
        "{body}"
    );
    assert!(
        body.contains("<Resource>/some-bucket/key</Resource>"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_part_number_and_object_attributes_boto3() {
    let env = S3Env::start().await;
    env.python("part_number.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_owner_pages_conditions_metadata_multipart_edges_boto3() {
    let env = S3Env::start().await;
    env.python("parity.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_checksums_every_algorithm_and_multipart_boto3() {
    let env = S3Env::start().await;
    env.python("checksums.py", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_canned_acls_anonymous_boto3() {
    let env = S3Env::start().await;
    env.python("acl.py", &[]).await;
}
