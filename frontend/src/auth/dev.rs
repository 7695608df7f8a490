//! The development account of `mantad dev`: an Ed25519 key pair and an S3
//! key pair kept under the data dir (made once, reused on restart), a
//! `frontend.toml` naming the running shards (for `mantad account --dev`),
//! and `env.sh` exporting what node-manta, our CLIs and aws-cli need. The
//! `mantad dev` command that calls [`prepare`] lives with the binary.

use crate::auth::secrets::write_private;
use crate::cluster::{ensure_key, Cluster};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The S3 endpoint exported when the cluster runs no S3 API.
pub(crate) const S3_ENDPOINT: &str = "http://127.0.0.1:9000";

/// What `env.sh` exports.
#[derive(Debug, Clone)]
pub struct DevCredentials {
    pub url: String,
    pub user: String,
    /// `aa:bb:..` MD5 fingerprint of the key.
    pub key_id: String,
    pub private_key: PathBuf,
    pub access_key_id: Option<String>,
    pub(crate) secret_access_key: Option<String>,
    pub(crate) s3_endpoint: String,
    /// The dev CA when the APIs speak TLS: what clients verify them with.
    pub ca_file: Option<PathBuf>,
}

/// Makes (or reuses) the dev account's keys and writes `frontend.toml` and
/// `env.sh` into `data`; `ca_file` is the CA of the APIs' certificate
/// when they speak TLS.
///
/// # Errors
/// I/O and metadata errors.
pub async fn prepare(
    cluster: &Cluster,
    user: &str,
    data: &Path,
    ca_file: Option<&Path>,
) -> anyhow::Result<DevCredentials> {
    let accounts = &cluster.state.accounts;
    let key_dir = data.join("keys").join(user);
    let signer = ensure_key(accounts, user, &key_dir).await?;
    let (access_key_id, secret_access_key) = match &cluster.state.settings.s3_secrets {
        Some(sealer) => {
            let file = key_dir.join("s3.env");
            let (id, secret) = match read_s3(&file) {
                Some((id, s)) if accounts.s3_secret(&id, sealer).await?.is_some() => (id, s),
                _ => {
                    let (id, s) = accounts.create_s3_key(user, sealer).await?;
                    let text = format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={s}\n");
                    write_private(&file, text.as_bytes())?;
                    (id, s)
                }
            };
            (Some(id), Some(secret))
        }
        None => (None, None),
    };
    let md5 = signer.fingerprint().to_string();
    let creds = DevCredentials {
        url: cluster.url.clone(),
        user: user.to_string(),
        key_id: md5,
        private_key: key_dir.join("id_ed25519"),
        access_key_id,
        secret_access_key,
        s3_endpoint: cluster
            .s3_url
            .clone()
            .unwrap_or_else(|| S3_ENDPOINT.to_string()),
        ca_file: ca_file.map(Path::to_path_buf),
    };
    let toml = data.join("frontend.toml");
    std::fs::write(&toml, frontend_toml(cluster, data))
        .with_context(|| format!("write {}", toml.display()))?;
    let env = data.join("env.sh");
    write_private(&env, env_sh(&creds).as_bytes())?;
    Ok(creds)
}

fn read_s3(file: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(file).ok()?;
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
    };
    Some((get("AWS_ACCESS_KEY_ID=")?, get("AWS_SECRET_ACCESS_KEY=")?))
}

/// A frontend config naming this cluster's shards (its ports change on each
/// start, so it is rewritten each time).
pub(crate) fn frontend_toml(cluster: &Cluster, data: &Path) -> String {
    let listen = cluster.frontend_addr().to_string();
    format!(
        "# Written by `mantad dev`: the running dev cluster, for `mantad account --dev`.\n\
         listen = {listen:?}\nmetadata_shards = {}\ns3_key_file = {:?}\n\
         cluster_secret_file = {:?}\n",
        cluster.shards_toml(),
        data.join("secrets").join("s3.key").to_string_lossy(),
        crate::cluster::cluster_key_path(data).to_string_lossy()
    )
}

/// The text of `env.sh`.
pub(crate) fn env_sh(c: &DevCredentials) -> String {
    let key = c.private_key.to_string_lossy();
    let mut s = format!(
        "# Written by `mantad dev`. Use: source {dir}/env.sh\n\
         export MANTA_URL={url}\n\
         export MANTA_USER={user}\n\
         export MANTA_KEY_ID={kid}\n\
         # node-manta and our CLIs find the key by MANTA_KEY_ID in ssh-agent or\n\
         # ~/.ssh; this adds it to a running agent (start one with\n\
         # `eval $(ssh-agent)` first), leaving ~/.ssh alone.\n\
         export MANTA_DEV_KEY={key}\n\
         if [ -n \"${{SSH_AUTH_SOCK:-}}\" ]; then ssh-add -q \"$MANTA_DEV_KEY\" 2>/dev/null || true; fi\n\
         # Our m* commands also take the key file directly.\n\
         export MANTA_KEY_FILE={key}\n",
        dir = c
            .private_key
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
        url = c.url,
        user = c.user,
        kid = c.key_id,
    );
    // Our m* commands are built beside mantad.
    if let Some(bin) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        if bin.join("mls").exists() {
            s.push_str(&format!(
                "export PATH={:?}:\"$PATH\"\n",
                bin.to_string_lossy()
            ));
        }
    }
    if let Some(ca) = &c.ca_file {
        // Each client's own variable, not SSL_CERT_FILE, which would
        // replace the trust store of every tool in the shell. Ours and
        // node's add the CA to the system's; aws-cli's replaces its bundle.
        s.push_str(&format!(
            "# The APIs speak HTTPS with a certificate of the dev CA:\n\
             export MANTA_CA_FILE={ca}\n\
             export NODE_EXTRA_CA_CERTS={ca}\n\
             export AWS_CA_BUNDLE={ca}\n",
            ca = ca.to_string_lossy()
        ));
    }
    if let (Some(id), Some(secret)) = (&c.access_key_id, &c.secret_access_key) {
        s.push_str(&format!(
            "export AWS_ACCESS_KEY_ID={id}\nexport AWS_SECRET_ACCESS_KEY={secret}\n\
             export AWS_ENDPOINT_URL={}\nexport AWS_DEFAULT_REGION=us-east-1\n",
            c.s3_endpoint
        ));
    }
    s
}
