//! One scripted session run with our commands and with node-manta's
//! (`$MANTA_NODE_BIN`, installed by scripts/setup.sh): the listings, the
//! fetched bytes and the exit codes must be the same.

use crate::harness::{bytes, ours, Env};
use bytes::Bytes;
use client_sdk::PutOptions;
use futures::StreamExt;
use std::path::PathBuf;

pub(crate) fn node_bin() -> PathBuf {
    let dir = std::env::var("MANTA_NODE_BIN")
        .unwrap_or_else(|_| "/var/cache/mantad-node/node_modules/manta/bin".into());
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("mls").exists(),
        "node-manta not found in {} (run scripts/setup.sh or set MANTA_NODE_BIN)",
        dir.display()
    );
    dir
}

/// What one step produced, with the run's prefix replaced by `P`.
#[derive(Debug, PartialEq)]
struct Step {
    what: String,
    code: Option<i32>,
    out: String,
}

/// Runs commands from `bin` (a function from name to program) under
/// `~~/stor/<prefix>`.
struct Session<'a> {
    env: &'a Env,
    bin: Box<dyn Fn(&str) -> PathBuf + 'a>,
    prefix: String,
    expires: String,
    steps: Vec<Step>,
}

/// Masks the date columns of `mls -l` lines (runs may straddle a minute):
/// the month, the day and the time or year after the size.
fn mask_long(s: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    s.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.iter().skip(3).position(|w| MONTHS.contains(w)) {
                Some(i) if f.len() > i + 3 + 3 => {
                    let at = i + 3;
                    format!("{} DATE {}", f[..at].join(" "), f[at + 3..].join(" "))
                }
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn sorted_lines(s: &str) -> String {
    let mut v: Vec<&str> = s.lines().collect();
    v.sort();
    v.join("\n")
}

impl Session<'_> {
    async fn step(&mut self, what: &str, cmd: &str, args: &[&str], stdin: Option<&[u8]>) -> String {
        let args: Vec<String> = args.iter().map(|a| a.replace("@P", &self.prefix)).collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = self.env.run_with((self.bin)(cmd), &argv, stdin).await;
        let mut out = String::from_utf8_lossy(&o.stdout).replace(&self.prefix, "P");
        if cmd == "mfind" {
            // mfind lists directories in parallel: its order is not defined.
            out = sorted_lines(&out);
        }
        self.steps.push(Step {
            what: what.to_string(),
            code: o.status.code(),
            out: out.clone(),
        });
        out
    }

    fn record(&mut self, what: &str, out: String) {
        self.steps.push(Step {
            what: what.to_string(),
            code: Some(0),
            out,
        });
    }

    async fn run(&mut self) {
        let big = self.env.local(&format!("{}-big.bin", self.prefix));
        std::fs::write(&big, bytes(300_000, 3)).unwrap();
        let bigp = big.to_string_lossy().to_string();
        let got = self.env.local(&format!("{}-got.bin", self.prefix));
        let gotp = got.to_string_lossy().to_string();
        self.step("mkdir -p", "mmkdir", &["-p", "~~/stor/@P/a/b"], None)
            .await;
        self.step("mkdir", "mmkdir", &["~~/stor/@P/c"], None).await;
        self.step(
            "put stdin",
            "mput",
            &["~~/stor/@P/a/b/x.txt"],
            Some(b"hello\n"),
        )
        .await;
        self.step(
            "put file",
            "mput",
            &["-f", &bigp, "-c", "1", "-m", "~~/stor/@P/a/big.bin"],
            None,
        )
        .await;
        self.step("put into dir", "mput", &["-f", &bigp, "~~/stor/@P/c"], None)
            .await;
        self.step(
            "put -p",
            "mput",
            &["-p", "~~/stor/@P/d/e/f.txt"],
            Some(b"deep"),
        )
        .await;
        self.step(
            "put -H",
            "mput",
            &["-H", "content-type: text/csv", "~~/stor/@P/t.csv"],
            Some(b"a,b\n"),
        )
        .await;
        self.step("get stdout", "mget", &["~~/stor/@P/a/b/x.txt"], None)
            .await;
        self.step(
            "get -o",
            "mget",
            &["-o", &gotp, "~~/stor/@P/a/big.bin"],
            None,
        )
        .await;
        let fetched = std::fs::read(&got).unwrap_or_default() == std::fs::read(&big).unwrap();
        self.record("get -o bytes", fetched.to_string());
        self.step("ls", "mls", &["~~/stor/@P"], None).await;
        self.step("ls dir", "mls", &["~~/stor/@P/a"], None).await;
        self.step("ls -l", "mls", &["-l", "~~/stor/@P/a"], None)
            .await;
        if let Some(last) = self.steps.last_mut() {
            last.out = mask_long(&last.out);
        }
        self.step("ls type o", "mls", &["--type", "o", "~~/stor/@P/a"], None)
            .await;
        self.step("ls type d", "mls", &["--type", "d", "~~/stor/@P/a"], None)
            .await;
        self.step("ls -r", "mls", &["-r", "~~/stor/@P"], None).await;
        self.step("ls paging", "mls", &["~~/stor/many"], None).await;
        self.step("find", "mfind", &["~~/stor/@P"], None).await;
        let txt = ["-n", r"\.txt$", "-t", "o", "~~/stor/@P"];
        self.step("find -n -t o", "mfind", &txt, None).await;
        self.step("find -t d", "mfind", &["-t", "d", "~~/stor/@P"], None)
            .await;
        self.step(
            "ln",
            "mln",
            &["~~/stor/@P/a/b/x.txt", "~~/stor/@P/link"],
            None,
        )
        .await;
        self.step("get link", "mget", &["~~/stor/@P/link"], None)
            .await;
        let expires = self.expires.clone();
        let signed = self
            .step("sign", "msign", &["-e", &expires, "~~/stor/@P/link"], None)
            .await;
        let url = signed.trim().replace("/P/", &format!("/{}/", self.prefix));
        assert!(url.contains(&self.prefix), "{url}");
        // The signed paths differ between the runs, so the signatures do.
        if let Some(last) = self.steps.last_mut() {
            last.out = last
                .out
                .split("&signature=")
                .next()
                .unwrap_or("")
                .to_string();
        }
        let status = match reqwest::get(&url).await {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) => e.to_string(),
        };
        self.record("signed url status", status);
        self.step("rmdir non-empty", "mrmdir", &["~~/stor/@P/a"], None)
            .await;
        self.step("get missing", "mget", &["~~/stor/@P/missing"], None)
            .await;
        self.step("rm missing", "mrm", &["~~/stor/@P/missing"], None)
            .await;
        self.step("mkdir no parent", "mmkdir", &["~~/stor/@P/no/such"], None)
            .await;
        self.step("bad flag", "mls", &["--bogus", "~~/stor/@P"], None)
            .await;
        self.step("rm -r", "mrm", &["-r", "~~/stor/@P/a"], None)
            .await;
        self.step("rmdir", "mrmdir", &["~~/stor/@P/c/nothing"], None)
            .await;
        self.step("ls after", "mls", &["~~/stor/@P"], None).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn node_manta_and_ours_agree() {
    let node = node_bin();
    let env = Env::start().await;
    // A directory that needs two pages of node-manta's 1024-entry listing.
    env.client.mkdir("~~/stor/many", &[]).await.unwrap();
    let names: Vec<String> = (0..1100).map(|i| format!("~~/stor/many/{i:05}")).collect();
    let opts = PutOptions::default();
    futures::stream::iter(
        names
            .iter()
            .map(|n| env.client.put_bytes(n, Bytes::from_static(b"."), &opts)),
    )
    .buffer_unordered(32)
    .for_each(|r| async move {
        r.unwrap();
    })
    .await;

    let expires = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    let mut ours_run = Session {
        env: &env,
        bin: Box::new(ours),
        prefix: "rust-run".into(),
        expires: expires.clone(),
        steps: Vec::new(),
    };
    ours_run.run().await;
    let mut node_run = Session {
        env: &env,
        bin: Box::new(move |b: &str| node.join(b)),
        prefix: "node-run".into(),
        expires: expires.clone(),
        steps: Vec::new(),
    };
    node_run.run().await;
    let paging = ours_run
        .steps
        .iter()
        .find(|s| s.what == "ls paging")
        .unwrap();
    assert_eq!(paging.out.lines().count(), 1100);
    for (a, b) in ours_run.steps.iter().zip(node_run.steps.iter()) {
        assert_eq!(a, b, "step {:?}: ours vs node-manta", a.what);
    }
    assert_eq!(ours_run.steps.len(), node_run.steps.len());
}
