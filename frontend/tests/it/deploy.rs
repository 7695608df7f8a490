//! `deploy/` checked without a cluster to deploy to: the Kubernetes
//! manifests against Kubernetes' schemas (`kubernetes-validate`), the
//! role configs in them and in `deploy/config/` through the roles' own
//! config types, the systemd units with `systemd-analyze verify`, and the
//! Containerfile with `deploy/lint-containerfile.py` (BuildKit's parser).
//! Each checker is also shown a broken copy, so a checker that passes
//! everything fails here. The tools come from scripts/setup.sh.

use frontend::config::FrontendConfig;
use jobs::agent::JobsConfig;
use metadata_tier::config::ShardConfig;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use storage_node::config::NodeConfig;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Files of `deploy/<dir>` ending in `ext`, sorted.
fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(deploy_dir().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no {ext} files in deploy/{dir}");
    out
}

fn run(program: &str, args: &[&str], files: &[PathBuf]) -> Output {
    Command::new(program)
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("run {program} (scripts/setup.sh installs it): {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Writes `from` with `old` replaced by `new` into `dir`, under its name.
fn broken_copy(dir: &Path, from: &Path, old: &str, new: &str) -> PathBuf {
    let body = std::fs::read_to_string(from).unwrap();
    assert!(body.contains(old), "{} lacks {old:?}", from.display());
    let to = dir.join(from.file_name().unwrap());
    std::fs::write(&to, body.replacen(old, new, 1)).unwrap();
    to
}

#[test]
fn kubernetes_manifests_match_the_schemas() {
    let manifests = files("kubernetes", ".yaml");
    // The oldest version docs/deploy.md names, and a current one.
    for version in ["1.30.0", "1.37.0"] {
        let out = run(
            "kubernetes-validate",
            &["--strict", "--quiet", "-k", version],
            &manifests,
        );
        assert!(out.status.success(), "{version}: {}", text(&out));
    }
    let tmp = tempfile::tempdir().unwrap();
    let frontend = deploy_dir().join("kubernetes/50-frontend.yaml");
    for (old, new) in [
        ("replicas: 1", "replicas: one"),
        ("periodSeconds: 5", "periodSecnds: 5"),
    ] {
        let bad = broken_copy(tmp.path(), &frontend, old, new);
        let out = run("kubernetes-validate", &["--strict", "--quiet"], &[bad]);
        assert!(!out.status.success(), "{new:?} passed: {}", text(&out));
    }
}

/// Secret files for configs that name paths of the target machine.
struct Secrets {
    dir: tempfile::TempDir,
}

impl Secrets {
    fn new() -> Secrets {
        let dir = tempfile::tempdir().unwrap();
        for name in ["cluster.key", "s3.key"] {
            let key = hex::encode(rand::random::<[u8; 32]>());
            std::fs::write(dir.path().join(name), key).unwrap();
        }
        Secrets { dir }
    }

    /// `config` with every `cluster_secret_file` and `s3_key_file` value
    /// pointed at this machine's copies.
    fn localise(&self, config: &str) -> String {
        config
            .lines()
            .map(|l| {
                for (key, file) in [
                    ("cluster_secret_file", "cluster.key"),
                    ("s3_key_file", "s3.key"),
                ] {
                    if l.trim_start().starts_with(key) {
                        let path = self.dir.path().join(file);
                        return format!("{key} = {:?}", path.display().to_string());
                    }
                }
                l.to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Parses and validates `config` as the role named by `kind`, as
    /// `mantad <role> --config` would at start.
    fn check(&self, kind: &str, name: &str, config: &str) {
        let config = self.localise(config);
        let fail = |e: &dyn std::fmt::Display| -> ! { panic!("{name}: {e:#}\n{config}") };
        match kind {
            "metadata" => {
                let c: ShardConfig = toml::from_str(&config).unwrap_or_else(|e| fail(&e));
                c.validate().unwrap_or_else(|e| fail(&e));
            }
            "storage" => {
                let c: NodeConfig<JobsConfig> =
                    toml::from_str(&config).unwrap_or_else(|e| fail(&e));
                c.validate().unwrap_or_else(|e| fail(&e));
                c.extra.validate().unwrap_or_else(|e| fail(&e));
            }
            "frontend" => {
                let c: FrontendConfig = toml::from_str(&config).unwrap_or_else(|e| fail(&e));
                c.validate().unwrap_or_else(|e| fail(&e));
            }
            other => panic!("{name}: no role {other}"),
        }
    }
}

/// The role a config file is for, from its name.
fn role_of(name: &str) -> &'static str {
    ["metadata", "storage", "frontend"]
        .into_iter()
        .find(|r| name.starts_with(r))
        .unwrap_or_else(|| panic!("{name} names no role"))
}

#[test]
fn example_configs_start_their_roles() {
    let secrets = Secrets::new();
    for path in files("config", ".toml") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read_to_string(&path).unwrap();
        secrets.check(role_of(&name), &name, &body);
    }
}

#[test]
fn kubernetes_configmap_holds_valid_configs() {
    // PyYAML comes with kubernetes-validate.
    let script = "import json, sys, yaml\n\
                  docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]\n\
                  print(json.dumps([d['data'] for d in docs if d['kind'] == 'ConfigMap']))";
    let path = deploy_dir().join("kubernetes/20-config.yaml");
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let maps: Vec<std::collections::BTreeMap<String, String>> =
        serde_json::from_slice(&out.stdout).unwrap();
    let secrets = Secrets::new();
    let mut roles = Vec::new();
    for (name, body) in maps.iter().flatten() {
        // What the storage pods' init container does to the template.
        let body = body.replace("@POD@", "mantad-storage-0");
        secrets.check(role_of(name), name, &body);
        roles.push(role_of(name));
    }
    assert_eq!(roles, ["frontend", "metadata", "storage"]);
}

#[test]
fn systemd_units_verify() {
    let units = files("systemd", ".service");
    let tmp = tempfile::tempdir().unwrap();
    // `verify` wants ExecStart to exist: point it at the binary built here.
    let local: Vec<PathBuf> = units
        .iter()
        .map(|u| {
            broken_copy(
                tmp.path(),
                u,
                "/usr/local/bin/mantad",
                env!("CARGO_BIN_EXE_mantad"),
            )
        })
        .collect();
    let out = run("systemd-analyze", &["verify"], &local);
    // An unknown key or a bad value is only a warning (exit 0) to systemd.
    assert!(
        out.status.success() && text(&out).is_empty(),
        "{}",
        text(&out)
    );
    let bad = broken_copy(
        tmp.path(),
        &local[0],
        "ProtectSystem=strict",
        "ProtectSystem=stric",
    );
    let out = run("systemd-analyze", &["verify"], &[bad]);
    assert!(!text(&out).is_empty(), "a bad value passed");
}

#[test]
fn containerfile_lints_and_ships_every_client() {
    let lint = deploy_dir().join("lint-containerfile.py");
    let file = deploy_dir().join("Containerfile");
    let out = run("python3", &[], &[lint.clone(), file.clone()]);
    assert!(out.status.success(), "{}", text(&out));
    let tmp = tempfile::tempdir().unwrap();
    let bad = broken_copy(
        tmp.path(),
        &file,
        "COPY --from=build",
        "COPY --from=builder",
    );
    let out = run("python3", &[], &[lint, bad]);
    assert!(!out.status.success(), "a missing stage passed");
    // Every m* command the SDK builds goes into the image.
    let body = std::fs::read_to_string(&file).unwrap();
    let copied: Vec<&str> = body
        .split("for b in ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("the Containerfile's `for b in ...;` list of clients")
        .split_whitespace()
        .collect();
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../client-sdk/Cargo.toml");
    let sdk = std::fs::read_to_string(sdk).unwrap();
    for bin in sdk.split("[[bin]]").skip(1) {
        let name = bin.split('"').nth(1).unwrap();
        assert!(
            copied.contains(&name),
            "Containerfile lacks {name}: {copied:?}"
        );
    }
}
