//! A bucket listing: a k-way merge of the sorted listings of the bucket's
//! partitions, each read in batches from its shard with its own marker, with
//! S3's prefix and delimiter rules applied on the way. A common prefix is
//! emitted once and every partition then skips past it with one seek, so a
//! delimited listing does not read the keys it rolls up.

use super::S3Result;
use futures::future::try_join_all;
use metadata_tier::wire::{Entry, Keyspace, ListOptions};
use metadata_tier::MetadataClient;
use std::collections::VecDeque;

/// Sorts after every key that starts with what precedes it (bar keys that
/// themselves continue with U+10FFFF, which land in the same prefix anyway).
const PAST: char = '\u{10FFFF}';

pub(crate) struct Query {
    pub(crate) prefix: String,
    pub(crate) delimiter: Option<String>,
    /// List keys after this one (exclusive).
    pub(crate) after: Option<String>,
    /// Keys plus common prefixes to return.
    pub(crate) max: usize,
}

pub(crate) enum Item {
    Key(Entry),
    Prefix(String),
}

impl Item {
    /// The key or prefix: where the next page starts after.
    pub(crate) fn name(&self) -> &str {
        match self {
            Item::Key(e) => &e.name,
            Item::Prefix(p) => p,
        }
    }
}

pub(crate) struct Page {
    pub(crate) items: Vec<Item>,
    pub(crate) truncated: bool,
}

struct Cursor {
    dir: String,
    buf: VecDeque<Entry>,
    marker: Option<String>,
    inclusive: bool,
    done: bool,
}

impl Query {
    /// The common prefix `key` rolls up into, if any.
    fn common_prefix<'a>(&self, key: &'a str) -> Option<&'a str> {
        let d = self.delimiter.as_deref().filter(|d| !d.is_empty())?;
        let rest = key.get(self.prefix.len()..)?;
        let i = rest.find(d)?;
        key.get(..self.prefix.len() + i + d.len())
    }

    /// Where every partition starts: after the marker (past its common
    /// prefix, which the previous page returned), but not before the prefix.
    fn start(&self) -> (Option<String>, bool) {
        let after = self.after.as_deref().map(|a| match self.common_prefix(a) {
            Some(cp) if a.starts_with(&self.prefix) => format!("{cp}{PAST}"),
            _ => a.to_string(),
        });
        match after {
            Some(a) if a.as_str() >= self.prefix.as_str() => (Some(a), false),
            _ if self.prefix.is_empty() => (None, false),
            _ => (Some(self.prefix.clone()), true),
        }
    }
}

/// Lists one page of the merged partitions.
///
/// # Errors
/// Metadata errors.
pub(crate) async fn list(meta: &MetadataClient, dirs: Vec<String>, q: &Query) -> S3Result<Page> {
    let (marker, inclusive) = q.start();
    let batch = (q.max / dirs.len().max(1) * 2 + 2).clamp(50, 1000);
    let mut cursors: Vec<Cursor> = dirs
        .into_iter()
        .map(|dir| Cursor {
            dir,
            buf: VecDeque::new(),
            marker: marker.clone(),
            inclusive,
            done: false,
        })
        .collect();
    let mut items = Vec::new();
    loop {
        refill(meta, &mut cursors, batch).await?;
        let Some(i) = smallest(&cursors) else {
            return Ok(Page {
                items,
                truncated: false,
            });
        };
        let Some(head) = cursors[i].buf.front() else {
            continue;
        };
        if !head.name.starts_with(&q.prefix) {
            // Sorted: everything after this key is past the prefix too.
            cursors[i].buf.clear();
            cursors[i].done = true;
            continue;
        }
        if items.len() >= q.max {
            return Ok(Page {
                items,
                truncated: true,
            });
        }
        match q.common_prefix(&head.name).map(str::to_string) {
            Some(cp) => {
                skip_past(&mut cursors, &cp);
                items.push(Item::Prefix(cp));
            }
            None => {
                if let Some(e) = cursors[i].buf.pop_front() {
                    items.push(Item::Key(e));
                }
            }
        }
    }
}

fn smallest(cursors: &[Cursor]) -> Option<usize> {
    cursors
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.buf.front().map(|e| (i, e.name.as_str())))
        .min_by(|a, b| a.1.cmp(b.1))
        .map(|(i, _)| i)
}

/// Drops every buffered key under `cp`, and moves the marker of each
/// partition whose buffer ran out past `cp`.
fn skip_past(cursors: &mut [Cursor], cp: &str) {
    let past = format!("{cp}{PAST}");
    for c in cursors.iter_mut() {
        while c.buf.front().is_some_and(|e| e.name.starts_with(cp)) {
            c.buf.pop_front();
        }
        if c.buf.is_empty() && !c.done && c.marker.as_deref() < Some(past.as_str()) {
            c.marker = Some(past.clone());
            c.inclusive = false;
        }
    }
}

/// Reads the next batch of every partition whose buffer is empty, all at
/// once.
async fn refill(meta: &MetadataClient, cursors: &mut [Cursor], batch: usize) -> S3Result<()> {
    let need: Vec<usize> = (0..cursors.len())
        .filter(|&i| cursors[i].buf.is_empty() && !cursors[i].done)
        .collect();
    if need.is_empty() {
        return Ok(());
    }
    let reads = need.iter().map(|&i| {
        let c = &cursors[i];
        let opts = ListOptions {
            marker: c.marker.clone(),
            inclusive: c.inclusive,
            limit: batch,
            reverse: false,
            by_mtime: false,
        };
        async move { meta.list(Keyspace::Buckets, &c.dir, &opts).await }
    });
    let pages = try_join_all(reads).await?;
    for (&i, page) in need.iter().zip(pages) {
        let c = &mut cursors[i];
        c.done = page.entries.len() < batch;
        if let Some(last) = page.entries.last() {
            c.marker = Some(last.name.clone());
            c.inclusive = false;
        }
        c.buf.extend(page.entries);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(prefix: &str, delim: Option<&str>, after: Option<&str>) -> Query {
        Query {
            prefix: prefix.into(),
            delimiter: delim.map(str::to_string),
            after: after.map(str::to_string),
            max: 10,
        }
    }

    #[test]
    fn prefixes_and_starts() {
        let x = q("a/", Some("/"), None);
        assert_eq!(x.common_prefix("a/b/c"), Some("a/b/"));
        assert_eq!(x.common_prefix("a/b"), None);
        assert_eq!(x.start(), (Some("a/".into()), true));
        let x = q("a/", Some("/"), Some("a/b/"));
        assert_eq!(x.start(), (Some(format!("a/b/{PAST}")), false));
        let x = q("", None, Some("k"));
        assert_eq!(x.start(), (Some("k".into()), false));
        let x = q("z", None, Some("k"));
        assert_eq!(x.start(), (Some("z".into()), true));
        assert_eq!(q("", None, None).start(), (None, false));
    }
}
