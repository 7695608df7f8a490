//! Running tasks: streams, exit codes, image config, both runtimes.

use crate::common::*;

#[tokio::test]
async fn exit_code_stdout_and_stderr_come_back() {
    let (_dir, runner) = runner();
    for runtime in BOTH {
        let spec = task(runtime, "echo out; echo oops >&2; exit 7");
        let (outcome, out) = run(&runner, &spec).await;
        assert_eq!(out, "out\n", "{runtime}");
        assert_eq!(stderr(&outcome), "oops\n", "{runtime}");
        assert_eq!(outcome.exit_code, Some(7), "{runtime}");
        assert!(
            outcome.limits_hit.is_empty(),
            "{runtime}: {:?}",
            outcome.limits_hit
        );
    }
}

/// Writes `len` bytes of a fixed pseudo-random pattern, chunk by chunk.
fn big_input(path: &std::path::Path, len: usize) -> String {
    use sha2::{Digest as _, Sha256};
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..len / chunk.len() {
        for b in chunk.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        hasher.update(&chunk);
        file.write_all(&chunk).unwrap();
    }
    file.flush().unwrap();
    hex::encode(hasher.finalize())
}

fn file_sha256(path: &std::path::Path) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path).unwrap(), &mut hasher).unwrap();
    hex::encode(hasher.finalize())
}

#[tokio::test]
async fn hundred_mib_input_streams_byte_exact() {
    let (dir, runner) = runner();
    let input = dir.path().join("input");
    let expected = big_input(&input, 100 << 20);
    for runtime in BOTH {
        // Through stdin and stdout, streamed to a file.
        let mut spec = task(runtime, "cat");
        spec.stdin = Some(input.clone());
        let out_path = dir.path().join(format!("out-{runtime}"));
        let mut out = tokio::fs::File::create(&out_path).await.unwrap();
        let outcome = runner.run(&spec, &mut out).await.unwrap();
        assert!(outcome.success(), "{runtime}: {}", stderr(&outcome));
        assert_eq!(outcome.stdout_bytes, 100 << 20);
        assert_eq!(file_sha256(&out_path), expected, "{runtime}");
        std::fs::remove_file(&out_path).unwrap();

        // The same input hashed and counted inside, from stdin and from a
        // read-only mount at its Manta path.
        let mut spec = task(runtime, "sha256sum; wc -c < /manta/u/stor/in");
        spec.stdin = Some(input.clone());
        spec.mounts.push(jobs::runtime::BindMount::read_only(
            input.clone(),
            "/manta/u/stor/in",
        ));
        let (outcome, out) = run(&runner, &spec).await;
        assert!(outcome.success(), "{runtime}: {}", stderr(&outcome));
        assert_eq!(out, format!("{expected}  -\n{}\n", 100 << 20), "{runtime}");
    }
}

#[tokio::test]
async fn default_image_has_the_usual_tools_and_task_env() {
    let (_dir, runner) = runner();
    let tools = "sh awk sed grep sort uniq tr wc cut head tail gzip tar";
    for runtime in BOTH {
        let mut spec = task(runtime, &format!("for t in {tools}; do command -v $t >/dev/null || echo missing $t; done; echo $MANTA_USER; printf 'b\\na\\nb\\n' | sort | uniq -c | awk '{{print $1 $2}}'"));
        spec.env.push(("MANTA_USER".into(), "alice".into()));
        let (outcome, out) = run(&runner, &spec).await;
        assert!(outcome.success(), "{runtime}: {}", stderr(&outcome));
        assert_eq!(out, "alice\n1a\n2b\n", "{runtime}");
    }
}

#[tokio::test]
async fn missing_image_is_an_error() {
    let (_dir, runner) = runner();
    let mut spec = task(jobs::runtime::RuntimeKind::Runc, "true");
    spec.image = Some("nope".into());
    let err = runner.run(&spec, &mut Vec::new()).await.unwrap_err();
    assert!(matches!(err, jobs::Error::ImageNotFound(_)), "{err}");
}
