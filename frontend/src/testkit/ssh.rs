//! Keys and fingerprints through OpenSSH's own `ssh-keygen`, so the tests
//! check our key handling against the reference tool, not against itself.

use std::path::{Path, PathBuf};

/// Makes a key pair of `kind` (`ed25519`, `rsa`, `ecdsa`) as `id_<kind>`
/// in `ssh`; returns the private key path.
pub fn keygen(ssh: &Path, kind: &str) -> PathBuf {
    let file = ssh.join(format!("id_{kind}"));
    let mut args = vec!["-q", "-t", kind, "-N", "", "-C", "test", "-f"];
    let f = file.to_string_lossy().to_string();
    args.push(&f);
    if kind == "rsa" {
        args.extend(["-b", "2048"]);
    }
    let st = std::process::Command::new("ssh-keygen")
        .args(&args)
        .status()
        .unwrap();
    assert!(st.success(), "ssh-keygen {kind}");
    file
}

/// `aa:bb:..` MD5 fingerprint of a public key file, via ssh-keygen.
pub fn md5_fp(pub_file: &Path) -> String {
    fingerprint(pub_file, "md5")
        .trim_start_matches("MD5:")
        .to_string()
}

/// `SHA256:..` fingerprint of a public key file, via ssh-keygen.
pub fn sha256_fp(pub_file: &Path) -> String {
    fingerprint(pub_file, "sha256")
}

fn fingerprint(pub_file: &Path, hash: &str) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .args(["-l", "-E", hash, "-f"])
        .arg(pub_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().nth(1).unwrap().to_string()
}

/// `<private>.pub`.
pub fn pub_path(private: &Path) -> PathBuf {
    PathBuf::from(format!("{}.pub", private.display()))
}
