//! Accounts on the metadata tier (Keyspace::Accounts, dir `""`, name =
//! login) and their keys. Lookups are cached for a few seconds: every request
//! needs its account, and keys change rarely; a key not found in the cache is
//! looked up again at the source, so a key just added works at once.
//! S3 access key ids are indexed under dir [`S3_INDEX_DIR`] (name = key id,
//! value = login).
//!
//! A login, key fingerprint or S3 key id looked up and not found is
//! remembered for a few seconds ([`misses`]), so unknown names sprayed by a
//! client cost the metadata tier a read per name, not per request.
//!
//! Accounts are core state both APIs share, so their errors are the
//! object service's neutral [`crate::store::Error`].

use crate::auth::keys;
use crate::auth::secrets::{self, SecretBox};
use crate::records::{AccountRecord, S3KeyRecord, SshKeyRecord};
use crate::store::{Error, Result};
use metadata_tier::wire::{Condition, EntryKey, Keyspace, ListOptions};
use metadata_tier::MetadataClient;
mod misses;

use misses::Misses;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a cached account is trusted (bounds how long a revoked key
/// keeps working on a frontend).
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(5);

pub(crate) const S3_INDEX_DIR: &str = "s3-access-keys";

/// The most accounts cached; past it, stale ones are dropped, then (if
/// still full) all, so memory stays bounded however many accounts are
/// asked for (each record carries its RBAC users, roles and policies).
const MAX_CACHED: usize = 10_000;

type Cache = HashMap<String, (Instant, AccountRecord)>;

#[derive(Clone)]
pub struct Accounts {
    meta: MetadataClient,
    cache: Arc<RwLock<Cache>>,
    misses: Arc<Misses>,
}

fn login_miss(login: &str) -> String {
    format!("login:{login}")
}

fn key_miss(login: &str, fingerprint: &str) -> String {
    format!("key:{login}/{fingerprint}")
}

fn s3_miss(access_key_id: &str) -> String {
    format!("s3:{access_key_id}")
}

fn key(login: &str) -> EntryKey {
    EntryKey::new(Keyspace::Accounts, "", login)
}

fn encode(rec: &AccountRecord) -> Result<serde_json::Value> {
    serde_json::to_value(rec).map_err(|e| Error::Internal(format!("encode account: {e}")))
}

impl Accounts {
    pub fn new(meta: MetadataClient) -> Self {
        Accounts {
            meta,
            cache: Arc::default(),
            misses: Arc::default(),
        }
    }

    /// # Errors
    /// `AccountNotFound` for an unknown login; metadata errors.
    pub async fn resolve(&self, login: &str) -> Result<AccountRecord> {
        if let Some(rec) = self.cached(login) {
            return Ok(rec);
        }
        self.fetch(login).await.map(|(_, rec)| rec)
    }

    /// A fresh cached copy. When the copy is stale, the first caller to see
    /// it re-reads the account and the others keep using the stale copy
    /// meanwhile, so an expiry does not send every request in flight to the
    /// metadata tier at once.
    fn cached(&self, login: &str) -> Option<AccountRecord> {
        let mut c = self.cache.write().ok()?;
        let (at, rec) = c.get_mut(login)?;
        if at.elapsed() < CACHE_TTL {
            return Some(rec.clone());
        }
        *at = Instant::now();
        None
    }

    fn remember(&self, login: &str, rec: AccountRecord) {
        let Ok(mut c) = self.cache.write() else {
            return;
        };
        if c.len() >= MAX_CACHED && !c.contains_key(login) {
            c.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if c.len() >= MAX_CACHED {
                c.clear();
            }
        }
        c.insert(login.to_string(), (Instant::now(), rec));
    }

    /// Reads the account at the source (and refreshes the cache).
    async fn fetch(&self, login: &str) -> Result<(String, AccountRecord)> {
        let not_found = || Error::AccountNotFound {
            login: login.to_string(),
        };
        if self.misses.recent(&login_miss(login)) {
            return Err(not_found());
        }
        let Some(entry) = self.meta.get(&key(login)).await? else {
            self.misses.record(&login_miss(login));
            return Err(not_found());
        };
        let rec: AccountRecord = serde_json::from_value(entry.value)
            .map_err(|e| Error::Internal(format!("account record of {login}: {e}")))?;
        self.remember(login, rec.clone());
        Ok((entry.etag, rec))
    }

    /// The account and its SSH key with this fingerprint (MD5 or SHA-256
    /// form); `None` when the account has no such key.
    ///
    /// # Errors
    /// `AccountNotFound`; metadata errors.
    pub async fn ssh_key(
        &self,
        login: &str,
        fingerprint: &str,
    ) -> Result<Option<(AccountRecord, SshKeyRecord)>> {
        let a = self.resolve(login).await?;
        if let Some(k) = a.ssh_key(fingerprint).cloned() {
            return Ok(Some((a, k)));
        }
        let miss = key_miss(login, fingerprint);
        if self.misses.recent(&miss) {
            return Ok(None);
        }
        let (_, a) = self.fetch(login).await?;
        let found = a.ssh_key(fingerprint).cloned().map(|k| (a, k));
        if found.is_none() {
            self.misses.record(&miss);
        }
        Ok(found)
    }

    /// The account and the SSH key with this fingerprint of its sub-user
    /// `user`; `None` when the user has no such key. A user or key not in
    /// the cached copy is looked up again at the source, so one just added
    /// works at once.
    ///
    /// # Errors
    /// `AccountNotFound`, `UserNotFound`; metadata errors.
    pub async fn user_ssh_key(
        &self,
        login: &str,
        user: &str,
        fingerprint: &str,
    ) -> Result<Option<(AccountRecord, SshKeyRecord)>> {
        let find = |a: &AccountRecord| a.user(user).map(|u| u.ssh_key(fingerprint).cloned());
        let a = self.resolve(login).await?;
        if let Some(Some(k)) = find(&a) {
            return Ok(Some((a, k)));
        }
        let miss = key_miss(login, &format!("{user}/{fingerprint}"));
        let a = if self.misses.recent(&miss) {
            a
        } else {
            self.fetch(login).await?.1
        };
        match find(&a) {
            Some(Some(k)) => Ok(Some((a, k))),
            Some(None) => {
                self.misses.record(&miss);
                Ok(None)
            }
            None => {
                self.misses.record(&miss);
                Err(Error::UserNotFound {
                    login: login.to_string(),
                    user: user.to_string(),
                })
            }
        }
    }

    /// The account read again at the source, because a request named
    /// something (`what`: a role) the cached copy lacks; `None` when the
    /// same was asked within the miss TTL, so a client naming unknown
    /// roles costs one read per name per TTL, not one per request.
    ///
    /// # Errors
    /// `AccountNotFound`; metadata errors.
    pub async fn reread(&self, login: &str, what: &str) -> Result<Option<AccountRecord>> {
        let miss = format!("reread:{login}/{what}");
        if self.misses.recent(&miss) {
            return Ok(None);
        }
        self.misses.record(&miss);
        Ok(Some(self.fetch(login).await?.1))
    }

    /// Creates the account if it does not exist; returns it either way.
    ///
    /// # Errors
    /// Metadata errors.
    pub async fn ensure(&self, login: &str) -> Result<AccountRecord> {
        match self.create(login).await {
            Err(Error::AccountExists { .. }) => self.resolve(login).await,
            other => other,
        }
    }

    /// Creates a new account.
    ///
    /// # Errors
    /// `InvalidArgument` for a bad login, `AccountExists`, metadata errors.
    pub async fn create(&self, login: &str) -> Result<AccountRecord> {
        if !crate::path::valid_login(login) {
            return Err(Error::InvalidArgument(format!("invalid login {login:?}")));
        }
        let rec = AccountRecord::new(login);
        match self
            .meta
            .put(key(login), encode(&rec)?, Condition::Absent)
            .await
        {
            Ok(_) => {
                self.misses.forget(&login_miss(login));
                Ok(rec)
            }
            Err(metadata_tier::Error::ConditionFailed { .. }) => Err(Error::AccountExists {
                login: login.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Every account, by login.
    ///
    /// # Errors
    /// Metadata errors.
    pub async fn list(&self) -> Result<Vec<AccountRecord>> {
        let mut out = Vec::new();
        let mut opts = ListOptions {
            limit: 1000,
            ..Default::default()
        };
        loop {
            let page = self.meta.list(Keyspace::Accounts, "", &opts).await?;
            let Some(last) = page.entries.last() else {
                break;
            };
            opts.marker = Some(last.name.clone());
            for e in page.entries {
                let rec: AccountRecord = serde_json::from_value(e.value)
                    .map_err(|err| Error::Internal(format!("account record {}: {err}", e.name)))?;
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// Read-modify-write of an account, retried on a concurrent change.
    ///
    /// # Errors
    /// What `change` returns; `ConditionFailed` after repeated races;
    /// metadata errors.
    pub async fn update<T>(
        &self,
        login: &str,
        mut change: impl FnMut(&mut AccountRecord) -> Result<T>,
    ) -> Result<T> {
        for _ in 0..5 {
            let (etag, mut rec) = self.fetch(login).await?;
            let out = change(&mut rec)?;
            match self
                .meta
                .put(key(login), encode(&rec)?, Condition::EtagMatches(etag))
                .await
            {
                Ok(_) => {
                    // A key may have been added: unknown ones are asked again.
                    self.misses.forget_prefix(&key_miss(login, ""));
                    self.remember(login, rec);
                    return Ok(out);
                }
                Err(metadata_tier::Error::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::ConditionFailed {
            name: format!("account {login}"),
        })
    }

    /// Adds an SSH public key (OpenSSH text); adding a key twice is a no-op.
    ///
    /// # Errors
    /// `InvalidArgument` for text that is not a supported key; as `update`.
    pub async fn add_ssh_key(&self, login: &str, openssh: &str) -> Result<SshKeyRecord> {
        let new = keys::parse_public(openssh).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        self.update(login, |rec| {
            if let Some(k) = rec.keys.iter().find(|k| k.md5 == new.md5) {
                return Ok(k.clone());
            }
            rec.keys.push(new.clone());
            Ok(new.clone())
        })
        .await
    }

    /// Makes an S3 access key pair; returns `(access key id, secret)`. The
    /// secret is stored sealed and shown only this once.
    ///
    /// # Errors
    /// As `update`; metadata errors writing the index.
    pub async fn create_s3_key(&self, login: &str, sealer: &SecretBox) -> Result<(String, String)> {
        self.resolve(login).await?;
        let (id, secret) = secrets::new_access_key();
        let sealed = sealer
            .seal(&id, &secret)
            .map_err(|e| Error::Internal(e.to_string()))?;
        self.meta
            .put(
                EntryKey::new(Keyspace::Accounts, S3_INDEX_DIR, &id),
                serde_json::json!({ "login": login }),
                Condition::Absent,
            )
            .await?;
        self.misses.forget(&s3_miss(&id));
        self.update(login, |rec| {
            rec.s3_keys.push(S3KeyRecord {
                access_key_id: id.clone(),
                sealed_secret: sealed.clone(),
                created_ms: crate::time::now_ms(),
                revoked_ms: None,
            });
            Ok(())
        })
        .await?;
        Ok((id, secret))
    }

    /// Revokes an S3 access key of `login`.
    ///
    /// # Errors
    /// `NotFound` for a key the account does not have; as `update`.
    pub async fn revoke_s3_key(&self, login: &str, access_key_id: &str) -> Result<()> {
        self.update(login, |rec| {
            let k = rec
                .s3_keys
                .iter_mut()
                .find(|k| k.access_key_id == access_key_id)
                .ok_or_else(|| Error::NotFound {
                    name: format!("S3 key {access_key_id} of {login}"),
                })?;
            k.revoked_ms.get_or_insert_with(crate::time::now_ms);
            Ok(())
        })
        .await
    }

    /// The account owning a live (not revoked) S3 access key, and the key's
    /// plain secret; `None` for an unknown or revoked key.
    ///
    /// # Errors
    /// Metadata errors; a secret that does not open with `sealer`.
    pub async fn s3_secret(
        &self,
        access_key_id: &str,
        sealer: &SecretBox,
    ) -> Result<Option<(AccountRecord, String)>> {
        let idx = EntryKey::new(Keyspace::Accounts, S3_INDEX_DIR, access_key_id);
        let miss = s3_miss(access_key_id);
        if self.misses.recent(&miss) {
            return Ok(None);
        }
        let Some(entry) = self.meta.get(&idx).await? else {
            self.misses.record(&miss);
            return Ok(None);
        };
        let Some(login) = entry.value.get("login").and_then(|l| l.as_str()) else {
            return Ok(None);
        };
        let live = |rec: &AccountRecord| {
            rec.s3_keys
                .iter()
                .find(|k| k.access_key_id == access_key_id && k.revoked_ms.is_none())
                .map(|k| k.sealed_secret.clone())
        };
        let mut rec = match self.resolve(login).await {
            Ok(r) => r,
            Err(Error::AccountNotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        // A key made by another process (another frontend, `mantad
        // account`) since the account was cached: look again at the source.
        if live(&rec).is_none() {
            rec = match self.fetch(login).await {
                Ok((_, r)) => r,
                Err(Error::AccountNotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
        }
        let Some(sealed) = live(&rec) else {
            self.misses.record(&miss);
            return Ok(None);
        };
        let secret = sealer
            .open(access_key_id, &sealed)
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Some((rec, secret)))
    }
}
