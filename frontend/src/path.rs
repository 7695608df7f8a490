//! Manta paths: `/:login/<tree>/a/b/c`, decoded and checked once at the edge.
//!
//! Limits (documented in `docs/manta-api.md`): a name component is at most
//! [`MAX_NAME_BYTES`] bytes, a whole path at most [`MAX_PATH_BYTES`]; `.`, `..`,
//! NUL and a `/` hidden in a percent-escape are refused.

use crate::error::{Error, Result};
use percent_encoding::percent_decode_str;

pub(crate) const MAX_NAME_BYTES: usize = 1024;
pub(crate) const MAX_PATH_BYTES: usize = 4096;

/// The fixed top-level directories of every account.
pub(crate) const TREES: [&str; 5] = ["jobs", "public", "reports", "stor", "uploads"];

/// A decoded, validated Manta path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MantaPath {
    pub(crate) login: String,
    /// `None` for the account root `/:login`.
    pub(crate) tree: Option<String>,
    /// Components below the tree, each a valid name.
    pub(crate) parts: Vec<String>,
}

impl MantaPath {
    /// Parses a raw (percent-encoded) request path. Repeated and trailing
    /// slashes are collapsed as muskie does.
    ///
    /// # Errors
    /// `InvalidResource` for undecodable or forbidden components,
    /// `ResourceNotFound` for an unknown top-level tree.
    pub(crate) fn parse(raw: &str) -> Result<MantaPath> {
        if raw.len() > MAX_PATH_BYTES * 3 {
            return Err(Error::InvalidResource("path too long".into()));
        }
        let mut segs = Vec::new();
        for seg in raw.split('/').filter(|s| !s.is_empty()) {
            segs.push(decode_segment(seg)?);
        }
        let total: usize = segs.iter().map(|s| s.len() + 1).sum();
        if total > MAX_PATH_BYTES {
            return Err(Error::InvalidResource(format!(
                "path is {total} bytes; the limit is {MAX_PATH_BYTES}"
            )));
        }
        let mut it = segs.into_iter();
        let login = it
            .next()
            .ok_or_else(|| Error::ResourceNotFound { path: "/".into() })?;
        if !valid_login(&login) {
            return Err(Error::InvalidResource(format!("invalid login {login:?}")));
        }
        let tree = it.next();
        if let Some(t) = &tree {
            if !TREES.contains(&t.as_str()) {
                return Err(Error::ResourceNotFound {
                    path: format!("/{login}/{t}"),
                });
            }
        }
        Ok(MantaPath {
            login,
            tree,
            parts: it.collect(),
        })
    }

    /// `/:login` or `/:login/<tree>`: always exists, never created or deleted.
    pub(crate) fn is_root(&self) -> bool {
        self.parts.is_empty()
    }

    /// The parent path, `None` for the account root.
    pub(crate) fn parent(&self) -> Option<MantaPath> {
        let mut p = self.clone();
        (p.parts.pop().is_some() || p.tree.take().is_some()).then_some(p)
    }

    /// The path as users see it: `/login/stor/a/b`.
    pub(crate) fn display(&self) -> String {
        let mut s = format!("/{}", self.login);
        for part in self.tree.iter().chain(self.parts.iter()) {
            s.push('/');
            s.push_str(part);
        }
        s
    }

    /// The metadata key of this path for an account: the login is replaced
    /// by the account's uuid (as Manta does), so renaming a login keeps data.
    /// Returns (directory, name); `None` for root directories, which have no
    /// record.
    pub(crate) fn key(&self, account_uuid: &str) -> Option<(String, String)> {
        let tree = self.tree.as_ref()?;
        let (name, dirs) = self.parts.split_last()?;
        let mut dir = format!("/{account_uuid}/{tree}");
        for d in dirs {
            dir.push('/');
            dir.push_str(d);
        }
        Some((dir, name.clone()))
    }

    /// The metadata directory whose entries this path (a directory) lists.
    pub(crate) fn as_dir_key(&self, account_uuid: &str) -> Option<String> {
        let tree = self.tree.as_ref()?;
        let mut dir = format!("/{account_uuid}/{tree}");
        for d in &self.parts {
            dir.push('/');
            dir.push_str(d);
        }
        Some(dir)
    }
}

fn decode_segment(seg: &str) -> Result<String> {
    let s = percent_decode_str(seg)
        .decode_utf8()
        .map_err(|_| Error::InvalidResource(format!("{seg:?} is not valid UTF-8")))?
        .into_owned();
    if s == "." || s == ".." {
        return Err(Error::InvalidResource(format!(
            "{s:?} is not allowed as a path component"
        )));
    }
    if s.contains('\0') {
        return Err(Error::InvalidResource(
            "NUL is not allowed in a path".into(),
        ));
    }
    if s.contains('/') {
        return Err(Error::InvalidResource(format!(
            "{seg:?} decodes to a name containing '/'"
        )));
    }
    if s.len() > MAX_NAME_BYTES {
        return Err(Error::InvalidResource(format!(
            "a name is {} bytes; the limit is {MAX_NAME_BYTES}",
            s.len()
        )));
    }
    Ok(s)
}

/// Muskie's login rule: a letter, then at least one of `[a-zA-Z0-9_\-.@%]`.
pub(crate) fn valid_login(login: &str) -> bool {
    let mut chars = login.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && login.len() >= 2
        && login.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-.@%".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_collapses_slashes() {
        let p = MantaPath::parse("//bob/stor//a/b%20c/").unwrap();
        assert_eq!(p.login, "bob");
        assert_eq!(p.tree.as_deref(), Some("stor"));
        assert_eq!(p.parts, vec!["a", "b c"]);
        assert_eq!(p.display(), "/bob/stor/a/b c");
        assert_eq!(
            p.key("U"),
            Some(("/U/stor/a".to_string(), "b c".to_string()))
        );
        assert_eq!(p.parent().unwrap().display(), "/bob/stor/a");
    }

    #[test]
    fn roots() {
        let p = MantaPath::parse("/bob").unwrap();
        assert!(p.is_root() && p.tree.is_none() && p.parent().is_none());
        let s = MantaPath::parse("/bob/public").unwrap();
        assert!(s.is_root());
        assert_eq!(s.key("U"), None);
        assert_eq!(s.as_dir_key("U").as_deref(), Some("/U/public"));
        assert_eq!(s.parent().unwrap().display(), "/bob");
    }

    #[test]
    fn refuses_bad_components() {
        for bad in [
            "/bob/stor/.",
            "/bob/stor/a/..",
            "/bob/stor/a%00b",
            "/bob/stor/a%2Fb",
            "/bob/stor/%ff",
            "/1bob/stor",
        ] {
            assert!(
                matches!(MantaPath::parse(bad), Err(Error::InvalidResource(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            MantaPath::parse("/bob/nope/a"),
            Err(Error::ResourceNotFound { .. })
        ));
        let long = format!("/bob/stor/{}", "x".repeat(MAX_NAME_BYTES + 1));
        assert!(matches!(
            MantaPath::parse(&long),
            Err(Error::InvalidResource(_))
        ));
    }
}
