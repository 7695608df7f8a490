use super::*;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn days(n: u64) -> SystemTime {
    SystemTime::now() + StdDuration::from_secs(n * 86_400)
}

#[test]
fn ca_is_kept_and_server_certificate_reused_until_it_must_change() {
    let dir = tempfile::tempdir().unwrap();
    let tls = ensure(dir.path(), &[]).unwrap();
    assert_eq!(mode(&tls.ca_key()), 0o600);
    assert_eq!(mode(&tls.files.key), 0o600);
    let ca = std::fs::read(&tls.ca_file).unwrap();
    let server = std::fs::read(&tls.files.cert).unwrap();
    let names = server_names(&[]);
    check_server(&tls, &names, SystemTime::now()).unwrap();
    assert_eq!(names, ["localhost", "127.0.0.1", "::1"]);

    // A restart: nothing to change.
    ensure(dir.path(), &[]).unwrap();
    assert_eq!(std::fs::read(&tls.ca_file).unwrap(), ca);
    assert_eq!(std::fs::read(&tls.files.cert).unwrap(), server);

    // A new name: a new server certificate from the same CA.
    let hosts = ["10.1.2.3".to_string(), "Store.Example".to_string()];
    ensure(dir.path(), &hosts).unwrap();
    assert_eq!(std::fs::read(&tls.ca_file).unwrap(), ca);
    assert_ne!(std::fs::read(&tls.files.cert).unwrap(), server);
    check_server(&tls, &server_names(&hosts), SystemTime::now()).unwrap();
}

#[test]
fn a_certificate_near_its_end_is_renewed() {
    let dir = tempfile::tempdir().unwrap();
    let tls = ensure(dir.path(), &[]).unwrap();
    let names = server_names(&[]);
    // Issued for SERVER_DAYS (90): still good past the renewal margin
    // now, not once fewer than RENEW_BEFORE_DAYS would be left.
    check_server(&tls, &names, days(RENEW_BEFORE_DAYS)).unwrap();
    let e = check_server(&tls, &names, days(SERVER_DAYS as u64 + 1)).unwrap_err();
    assert!(format!("{e:#}").contains("server.pem"), "{e:#}");
}

#[test]
fn a_certificate_of_another_ca_or_key_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let tls = ensure(dir.path(), &[]).unwrap();
    let names = server_names(&[]);
    // Another CA's certificate and key in the server's place.
    let other = tempfile::tempdir().unwrap();
    let foreign = ensure(other.path(), &[]).unwrap();
    std::fs::copy(&foreign.files.cert, &tls.files.cert).unwrap();
    std::fs::copy(&foreign.files.key, &tls.files.key).unwrap();
    assert!(check_server(&tls, &names, SystemTime::now()).is_err());
    ensure(dir.path(), &[]).unwrap();
    check_server(&tls, &names, SystemTime::now()).unwrap();

    // The certificate beside a key that is not its own.
    std::fs::copy(&foreign.files.key, &tls.files.key).unwrap();
    let e = check_server(&tls, &names, SystemTime::now()).unwrap_err();
    assert!(format!("{e:#}").contains("with its key"), "{e:#}");
    ensure(dir.path(), &[]).unwrap();
    check_server(&tls, &names, SystemTime::now()).unwrap();
}

#[test]
fn a_lost_ca_key_means_a_new_ca() {
    let dir = tempfile::tempdir().unwrap();
    let tls = ensure(dir.path(), &[]).unwrap();
    let ca = std::fs::read(&tls.ca_file).unwrap();
    std::fs::write(tls.ca_key(), "garbage").unwrap();
    ensure(dir.path(), &[]).unwrap();
    assert_ne!(std::fs::read(&tls.ca_file).unwrap(), ca);
    check_server(&tls, &server_names(&[]), SystemTime::now()).unwrap();

    // A CA certificate that is not the key's: the server certificate the
    // key signs does not chain to it, so a new CA is made.
    let other = tempfile::tempdir().unwrap();
    let foreign = ensure(other.path(), &[]).unwrap();
    std::fs::copy(&foreign.ca_file, &tls.ca_file).unwrap();
    std::fs::remove_file(&tls.files.cert).unwrap();
    ensure(dir.path(), &[]).unwrap();
    assert_ne!(
        std::fs::read(&tls.ca_file).unwrap(),
        std::fs::read(&foreign.ca_file).unwrap()
    );
    check_server(&tls, &server_names(&[]), SystemTime::now()).unwrap();
}

#[test]
fn issue_server_makes_a_new_key_from_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let tls = ensure(dir.path(), &[]).unwrap();
    let before = std::fs::read(&tls.files.key).unwrap();
    issue_server(dir.path(), &[], &tls.files).unwrap();
    assert_ne!(std::fs::read(&tls.files.key).unwrap(), before);
    check_server(&tls, &server_names(&[]), SystemTime::now()).unwrap();
}
