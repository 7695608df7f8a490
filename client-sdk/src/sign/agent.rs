//! A minimal ssh-agent client (draft-miller-ssh-agent): list identities and
//! sign, over the `SSH_AUTH_SOCK` Unix socket.

use super::{algorithm_for, Fingerprint, KeyKind, Signer};
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
/// Ask for `rsa-sha2-256` rather than SHA-1 for RSA keys.
const RSA_SHA2_256: u32 = 2;

fn agent_err(e: impl std::fmt::Display) -> Error {
    Error::Key(format!("ssh-agent: {e}"))
}

/// Sends one message, returns the reply's payload.
fn call(socket: &Path, msg: &[u8]) -> Result<Vec<u8>> {
    let mut s = UnixStream::connect(socket).map_err(agent_err)?;
    let len = u32::try_from(msg.len()).map_err(agent_err)?;
    s.write_all(&len.to_be_bytes()).map_err(agent_err)?;
    s.write_all(msg).map_err(agent_err)?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len).map_err(agent_err)?;
    let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).map_err(agent_err)?;
    Ok(buf)
}

/// A cursor over SSH wire data.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8> {
        let (b, rest) = self
            .0
            .split_first()
            .ok_or_else(|| agent_err("short reply"))?;
        self.0 = rest;
        Ok(*b)
    }
    fn u32(&mut self) -> Result<u32> {
        if self.0.len() < 4 {
            return Err(agent_err("short reply"));
        }
        let (n, rest) = self.0.split_at(4);
        self.0 = rest;
        Ok(u32::from_be_bytes([n[0], n[1], n[2], n[3]]))
    }
    fn string(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        if self.0.len() < n {
            return Err(agent_err("short reply"));
        }
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(s)
    }
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// The agent's key whose fingerprint is `fp`.
pub fn find(socket: &Path, fp: &Fingerprint) -> Result<Option<Signer>> {
    let reply = call(socket, &[REQUEST_IDENTITIES])?;
    let mut r = Reader(&reply);
    if r.u8()? != IDENTITIES_ANSWER {
        return Err(agent_err("unexpected reply to identities request"));
    }
    for _ in 0..r.u32()? {
        let blob = r.string()?.to_vec();
        let _comment = r.string()?;
        if !fp.matches(&blob) {
            continue;
        }
        let ty = String::from_utf8_lossy(Reader(&blob).string()?).to_string();
        return Ok(Some(Signer {
            algorithm: algorithm_for(&ty)?,
            fingerprint: super::md5_fingerprint(&blob),
            kind: KeyKind::Agent {
                socket: socket.to_path_buf(),
                blob: blob.clone(),
            },
            blob,
        }));
    }
    Ok(None)
}

/// Asks the agent to sign; returns the signature in HTTP Signature form.
pub fn sign(socket: &Path, blob: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let mut msg = vec![SIGN_REQUEST];
    put_string(&mut msg, blob);
    put_string(&mut msg, data);
    let is_rsa = Reader(blob).string()? == b"ssh-rsa";
    let flags = if is_rsa { RSA_SHA2_256 } else { 0 };
    msg.extend_from_slice(&flags.to_be_bytes());
    let reply = call(socket, &msg)?;
    let mut r = Reader(&reply);
    if r.u8()? != SIGN_RESPONSE {
        return Err(agent_err("the agent refused to sign"));
    }
    let mut sig = Reader(r.string()?);
    let alg = sig.string()?.to_vec();
    let raw = sig.string()?;
    if alg.starts_with(b"ecdsa-") {
        // SSH carries (r, s) as two mpints; HTTP Signature wants DER.
        let mut rs = Reader(raw);
        let (r, s) = (rs.string()?, rs.string()?);
        return Ok(der_signature(r, s));
    }
    Ok(raw.to_vec())
}

fn der_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
}

/// `SEQUENCE { INTEGER r, INTEGER s }`; SSH mpints are already minimal
/// two's-complement big-endian, as DER INTEGERs are.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for int in [r, s] {
        body.push(0x02);
        der_len(&mut body, int.len());
        body.extend_from_slice(int);
    }
    let mut out = vec![0x30];
    der_len(&mut out, body.len());
    out.extend(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_wraps_mpints() {
        assert_eq!(
            der_signature(&[0x01], &[0x00, 0x80]),
            vec![0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80]
        );
    }
}
