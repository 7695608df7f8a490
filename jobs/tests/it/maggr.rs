//! `maggr` against an oracle: node running Manta's own arithmetic (the
//! formulas of manta-compute-bin's `bin/maggr`), over random doubles from
//! the whole range, under both awks a task may have (the host's and
//! busybox's, which lacks awk's math library). Numbers must print as
//! JavaScript prints them and keys come in `Object.keys` order.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const OPS: &str = "sum,mean,count,min,max,range,variance,stddev,ovariance";

/// Manta's maggr reduced to its arithmetic and output order: key columns
/// 1 and 3 (concatenated), column 2 ignored, column 4 aggregated.
const ORACLE: &str = r#"
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
const results = {};
for (const line of lines) {
  if (line === "") continue;
  const c = line.split(" ");
  const key = c[0] + c[2];
  const v = parseFloat(c[3]);
  const r = results[key] = results[key] || { k1: "", k3: "", vals: [], o: { n: 0, mean: 0, m2: 0 } };
  r.k1 = c[0]; r.k3 = c[2];
  r.sum = r.vals.length ? r.sum + v : v;
  r.min = r.vals.length ? Math.min(r.min, v) : v;
  r.max = r.vals.length ? Math.max(r.max, v) : v;
  r.vals.push(v);
  r.o.n += 1;
  const d = v - r.o.mean;
  r.o.mean += d / r.o.n;
  r.o.m2 += d * (v - r.o.mean);
}
const out = [];
for (const key of Object.keys(results)) {
  const r = results[key], n = r.vals.length, mean = r.sum / n;
  let s2 = 0;
  for (const v of r.vals) s2 += (v - mean) * (v - mean);
  const variance = s2 / (n - 1);
  const agg = [r.sum, mean, n, r.min, r.max, Math.abs(r.max - r.min), variance,
               Math.sqrt(variance), r.o.m2 / (r.o.n - 1)];
  out.push([r.k1, r.k3, agg.map(String).join(",")].join(" "));
}
process.stdout.write(out.join("\n") + "\n");
"#;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/agent/utilities/maggr.sh")
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// Lines `k1 ignored k3 value`: keys that are and are not array indexes
/// to JavaScript, values from every exponent written several ways.
fn input(seed: u64, lines: usize) -> String {
    const K1: &[&str] = &[
        "0",
        "1",
        "9",
        "10",
        "4294967294",
        "4294967295",
        "01",
        "-1",
        "1.5",
        "a",
        "b",
        "1e3",
    ];
    const K3: &[&str] = &["", "0", "7", "x"];
    let mut s = seed;
    let mut out = String::new();
    for _ in 0..lines {
        let k1 = K1[(xorshift(&mut s) % K1.len() as u64) as usize];
        let k3 = K3[(xorshift(&mut s) % K3.len() as u64) as usize];
        let r = xorshift(&mut s);
        let v = match r % 5 {
            // Any finite double.
            0 | 1 => {
                let f = f64::from_bits(xorshift(&mut s));
                let f = if f.is_finite() { f } else { 0.5 };
                if r.is_multiple_of(2) {
                    format!("{f:e}")
                } else {
                    format!("{f}")
                }
            }
            // Ordinary decimals, where sums carry rounding error.
            2 => format!(
                "{:.3}",
                (xorshift(&mut s) % 2_000_000) as f64 / 1000.0 - 1000.0
            ),
            3 => format!("{}", (xorshift(&mut s) % 1000) as i64 - 500),
            _ => ["1e400", "-Infinity", "4.9e-324", "0.1", "12abc", "+.5e1"]
                [(xorshift(&mut s) % 6) as usize]
                .to_string(),
        };
        out.push_str(&format!("{k1} z {k3} {v}\n"));
    }
    out
}

fn run_maggr(awk_dir: Option<&Path>, file: &Path) -> String {
    let mut cmd = Command::new("sh");
    cmd.arg(script())
        .args(["-c1=key", "-c2=nop", "-c3=key", &format!("-c4={OPS}"), "-f"])
        .arg(file)
        .stdin(Stdio::null());
    if let Some(dir) = awk_dir {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", dir.display()));
    }
    let out = output_within(cmd, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "maggr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `cmd`, killing it at `limit`: an awk loop that never ends fails
/// the test instead of hanging it.
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).map(|_| v)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("maggr ran for more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = Vec::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output {
        status,
        stdout: reader.join().unwrap().unwrap(),
        stderr,
    }
}

fn which(name: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not on PATH (scripts/setup.sh installs it)"))
}

#[test]
fn maggr_prints_numbers_and_orders_keys_as_manta() {
    let dir = tempfile::tempdir().unwrap();
    // An awk that is busybox's, as in the default image.
    let bb = dir.path().join("bb");
    std::fs::create_dir(&bb).unwrap();
    std::os::unix::fs::symlink(which("busybox"), bb.join("awk")).unwrap();
    let node = which("node");
    for seed in [1u64, 0x9e37_79b9_7f4a_7c15, 42, 7_777_777] {
        let file = dir.path().join(format!("in-{seed}"));
        std::fs::write(&file, input(seed, 2000)).unwrap();
        let want = Command::new(&node)
            .arg("-e")
            .arg(ORACLE)
            .arg(&file)
            .output()
            .unwrap();
        assert!(want.status.success());
        let want = String::from_utf8(want.stdout).unwrap();
        // Array-index keys lead, ascending: the oracle is not trivially
        // first-seen order.
        assert!(want.starts_with("0 "), "{want}");
        for (awk, got) in [
            ("host awk", run_maggr(None, &file)),
            ("busybox awk", run_maggr(Some(&bb), &file)),
        ] {
            for (g, w) in got.lines().zip(want.lines()) {
                assert_eq!(g, w, "{awk}, seed {seed}");
            }
            assert_eq!(got.lines().count(), want.lines().count(), "{awk}");
        }
    }
}
