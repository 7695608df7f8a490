//! Account lookup by login, cached: accounts change rarely and every request
//! needs one.

use crate::error::{Error, Result};
use crate::records::{AccountRecord, RECORD_VERSION};
use metadata_tier::wire::{Condition, EntryKey, Keyspace};
use metadata_tier::MetadataClient;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct Accounts {
    meta: MetadataClient,
    cache: Arc<RwLock<HashMap<String, AccountRecord>>>,
}

fn key(login: &str) -> EntryKey {
    EntryKey::new(Keyspace::Accounts, "", login)
}

impl Accounts {
    pub fn new(meta: MetadataClient) -> Self {
        Accounts {
            meta,
            cache: Arc::default(),
        }
    }

    /// # Errors
    /// `AccountDoesNotExist` for an unknown login; metadata errors.
    pub async fn resolve(&self, login: &str) -> Result<AccountRecord> {
        if let Some(a) = self.cache.read().ok().and_then(|c| c.get(login).cloned()) {
            return Ok(a);
        }
        let entry =
            self.meta
                .get(&key(login))
                .await?
                .ok_or_else(|| Error::AccountDoesNotExist {
                    login: login.to_string(),
                })?;
        let rec: AccountRecord = serde_json::from_value(entry.value)
            .map_err(|e| Error::Internal(format!("account record of {login}: {e}")))?;
        if let Ok(mut c) = self.cache.write() {
            c.insert(login.to_string(), rec.clone());
        }
        Ok(rec)
    }

    /// Creates the account if it does not exist; returns it either way.
    ///
    /// # Errors
    /// Metadata errors.
    pub async fn ensure(&self, login: &str) -> Result<AccountRecord> {
        if !crate::path::valid_login(login) {
            return Err(Error::InvalidArgument(format!("invalid login {login:?}")));
        }
        let rec = AccountRecord {
            v: RECORD_VERSION,
            login: login.to_string(),
            uuid: uuid::Uuid::new_v4().to_string(),
            created_ms: crate::time::now_ms(),
        };
        let value = serde_json::to_value(&rec)
            .map_err(|e| Error::Internal(format!("encode account: {e}")))?;
        match self.meta.put(key(login), value, Condition::Absent).await {
            Ok(_) => Ok(rec),
            Err(metadata_tier::Error::ConditionFailed { .. }) => self.resolve(login).await,
            Err(e) => Err(e.into()),
        }
    }
}
