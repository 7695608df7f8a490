//! Against AWS's published examples: the aws-sig-v4-test-suite
//! `get-vanilla` case, the signing-key derivation example of the SigV4
//! documentation, and the S3 documentation's GET Object example.

use super::*;

#[test]
fn get_vanilla_test_suite_case() {
    let headers = [
        ("host", vec!["example.amazonaws.com"]),
        ("x-amz-date", vec!["20150830T123600Z"]),
    ];
    let canonical = canonical_request("GET", "/", None, false, &headers, EMPTY_SHA256);
    assert_eq!(
        canonical,
        format!("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n{EMPTY_SHA256}")
    );
    let scope = scope("20150830", "us-east-1", "service");
    assert_eq!(
        string_to_sign("20150830T123600Z", &scope, &canonical),
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
    let creds = Credentials {
        access_key: "AKIDEXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        region: "us-east-1".into(),
        service: "service".into(),
    };
    assert_eq!(
        creds.authorization("GET", "/", None, &headers, EMPTY_SHA256, "20150830T123600Z"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[test]
fn signing_key_derivation_example() {
    let key = signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "20120215",
        "us-east-1",
        "iam",
    );
    assert_eq!(
        hex::encode(key),
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    );
}

/// "Signature Calculations for the Authorization Header", GET Object.
#[test]
fn s3_get_object_example() {
    let creds = Credentials {
        access_key: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        region: "us-east-1".into(),
        service: "s3".into(),
    };
    let date = "20130524T000000Z";
    let headers = [
        ("host", vec!["examplebucket.s3.amazonaws.com"]),
        ("range", vec!["bytes=0-9"]),
        ("x-amz-content-sha256", vec![EMPTY_SHA256]),
        ("x-amz-date", vec![date]),
    ];
    let auth = creds.authorization("GET", "/test.txt", None, &headers, EMPTY_SHA256, date);
    assert!(
        auth.ends_with(
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        ),
        "{auth}"
    );
}

#[test]
fn canonical_pieces() {
    assert_eq!(canonical_uri("/a%20b/c+d/%7Ex"), "/a%20b/c%2Bd/~x");
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(
        canonical_query(Some("b=2&a=1&a=0&c"), false),
        "a=0&a=1&b=2&c="
    );
    assert_eq!(
        canonical_query(Some("Param2=value2&Param1=value1"), false),
        "Param1=value1&Param2=value2"
    );
    assert_eq!(
        canonical_query(Some("X-Amz-Signature=x&a=%2F"), true),
        "a=%2F"
    );
    assert_eq!(uri_encode("a b/~"), "a%20b%2F~");
    assert_eq!(
        canonical_header("x-a", &["  one   two ", "three"]),
        "x-a:one two,three\n"
    );
    let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_369_353_600);
    assert_eq!(format_amz_date(t), "20130524T000000Z");
}
