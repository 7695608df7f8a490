//! Signing Manta requests for the load generator, with the SDK's signer (the
//! same HTTP Signature node-manta sends), so the bench measures the
//! authenticated path users take.

use anyhow::Context;
use client_sdk::Signer;
use reqwest::RequestBuilder;
use std::path::Path;
use std::sync::Arc;

#[derive(Clone)]
pub struct MantaAuth {
    signer: Arc<Signer>,
    key_id: String,
}

impl MantaAuth {
    /// The key: a private key file if given (`mantad dev` exports it as
    /// `MANTA_DEV_KEY`), else ssh-agent or `~/.ssh` matched by `MANTA_KEY_ID`.
    pub fn load(key: Option<&Path>, key_id: Option<&str>, user: &str) -> anyhow::Result<Self> {
        let signer = match key {
            Some(path) => {
                Signer::from_file(path).with_context(|| format!("read key {}", path.display()))?
            }
            None => Signer::discover(key_id).context("find a signing key (MANTA_KEY_ID)")?,
        };
        let key_id = signer.key_id(user, None);
        Ok(MantaAuth {
            signer: Arc::new(signer),
            key_id,
        })
    }

    /// Adds a fresh `date` and its signature.
    pub fn sign(&self, rb: RequestBuilder) -> anyhow::Result<RequestBuilder> {
        let (date, auth) = self
            .signer
            .headers_now(&self.key_id)
            .context("sign request")?;
        Ok(rb.header("date", date).header("authorization", auth))
    }
}
