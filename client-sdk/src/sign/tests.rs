//! The signer against node-manta itself: the expected strings were made by
//! node-manta's own libraries (smartdc-auth 2, http-signature 1.4) with the
//! Ed25519 example key of the `ssh-key` crate's test suite. Ed25519 is
//! deterministic, so the signatures must match byte for byte.

use super::*;
use crate::presign::SignUrlOptions;

/// `ssh-key` 0.6's `tests/examples/id_ed25519`.
const ED25519_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCzPq7zfqLffKoBDe/eo04kH2XxtSmk9D7RQyf1xUqrYgAAAJgAIAxdACAM
XQAAAAtzc2gtZWQyNTUxOQAAACCzPq7zfqLffKoBDe/eo04kH2XxtSmk9D7RQyf1xUqrYg
AAAEC2BsIi0QwW2uFscKTUUXNHLsYX4FxlaSDSblbAj7WR7bM+rvN+ot98qgEN796jTiQf
ZfG1KaT0PtFDJ/XFSqtiAAAAEHVzZXJAZXhhbXBsZS5jb20BAgMEBQ==
-----END OPENSSH PRIVATE KEY-----
";
const ED25519_PUB: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";
const KEY_ID: &str = "/dev/keys/ae:6f:ba:1b:70:2c:ae:c7:5c:ab:6e:4d:5e:d4:c7:23";
const DATE: &str = "Thu, 05 Jan 2014 21:31:40 GMT";

fn signer() -> Signer {
    Signer::from_openssh(ED25519_KEY).unwrap()
}

#[test]
fn key_from_text() {
    let s = signer();
    assert_eq!(s.algorithm(), "ed25519-sha512");
    assert_eq!(s.key_id("dev", None), KEY_ID);
    assert_eq!(s.public_openssh().unwrap(), ED25519_PUB);
    assert!(!s.uses_agent());
    assert!(Signer::from_openssh("not a key").is_err());
}

/// `requestSigner(...).writeHeader('date', DATE)`, as node-manta signs
/// every request.
#[test]
fn authorization_as_node_manta_sends_it() {
    assert_eq!(
        signer().authorization(KEY_ID, DATE).unwrap(),
        format!(
            "Signature keyId=\"{KEY_ID}\",algorithm=\"ed25519-sha512\",headers=\"date\",\
             signature=\"8tpgQ5pudyLrtEjebNOAa/zfHzVUqX2vmZ4Yf7U1Z/qdBezNrDnzChgRiGgPEfP5v5cLdh0rooTCGHvjgjmaDQ==\""
        )
    );
}

/// `writeTarget('GET', '/dev/stor/a%20b?limit=1')` then the date.
#[test]
fn authorization_over_request_target() {
    let auth = signer()
        .authorization_over(
            KEY_ID,
            &["(request-target)", "date"],
            "GET",
            "/dev/stor/a%20b?limit=1",
            |n| (n == "date").then_some(DATE),
        )
        .unwrap();
    assert_eq!(
        auth,
        format!(
            "Signature keyId=\"{KEY_ID}\",algorithm=\"ed25519-sha512\",headers=\"(request-target) date\",\
             signature=\"Ig12DmtieWYV6nSgAvyjCNHJ2g4VCmHYetBH1iGYnJb66tjc60e9QcnJ2FR/dTBJE0kMjPA9oaIAqqs2L/6MDQ==\""
        )
    );
}

/// smartdc-auth `signUrl({host, path, method: ['GET','HEAD'], expires})`,
/// what `msign` prints after `$MANTA_URL`.
#[test]
fn signed_url_as_msign_makes_it() {
    let url = signer()
        .sign_url(
            "manta.example.com",
            "/dev/stor/a%20b",
            KEY_ID,
            &SignUrlOptions::new(&["HEAD", "GET"], 1_700_000_000),
        )
        .unwrap();
    assert_eq!(
        url,
        "/dev/stor/a%20b?algorithm=ED25519-SHA512&expires=1700000000\
         &keyId=%2Fdev%2Fkeys%2Fae%3A6f%3Aba%3A1b%3A70%3A2c%3Aae%3Ac7%3A5c%3Aab%3A6e%3A4d%3A5e%3Ad4%3Ac7%3A23\
         &method=GET%2CHEAD\
         &signature=KR5cVyr0TJZ%2F9nGCkRh2NRHHAonlnkaM7Samb4tDajaJb1v1s2Bo519JUPswSJMv4aPG%2FXE%2BEgt3crX1MjlTBA%3D%3D"
    );
}

/// Every key type signs; P-521 (`ecdsa-sha512`) included.
#[test]
fn every_key_type_loads_and_signs() {
    let algs = [
        (ssh_key::Algorithm::Ed25519, "ed25519-sha512"),
        (
            ssh_key::Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP256,
            },
            "ecdsa-sha256",
        ),
        (
            ssh_key::Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP384,
            },
            "ecdsa-sha384",
        ),
        (
            ssh_key::Algorithm::Ecdsa {
                curve: ssh_key::EcdsaCurve::NistP521,
            },
            "ecdsa-sha512",
        ),
    ];
    for (alg, name) in algs {
        let key = ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, alg).unwrap();
        let text = key.to_openssh(ssh_key::LineEnding::LF).unwrap();
        let s = Signer::from_openssh(&text).unwrap();
        assert_eq!(s.algorithm(), name);
        assert_eq!(
            s.public_openssh().unwrap(),
            key.public_key().to_openssh().unwrap()
        );
        assert!(!s.sign(b"date: x").unwrap().is_empty());
    }
}
