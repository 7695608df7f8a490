//! `mantad admin shards`: each shard's Raft group (leader, term, replicas
//! and how far each lags), and its membership levers: `add`, `remove`, and
//! `move` (add the new replica, then remove the old one).

use anyhow::Context;
use clap::Subcommand;
use metadata_tier::raft::routes::{MemberChange, ReplicaStatus};
use metadata_tier::MetadataClient;

#[derive(Subcommand, Debug)]
pub enum ShardsCmd {
    /// Every shard's group as its replicas see it (the default).
    Status,
    /// Add replica ID at URL to SHARD: it catches up, then votes.
    Add { shard: usize, id: u64, url: String },
    /// Remove replica ID from SHARD's group.
    Remove { shard: usize, id: u64 },
    /// Move SHARD's replica FROM to a new replica ID at URL.
    Move {
        shard: usize,
        from: u64,
        id: u64,
        url: String,
    },
}

/// # Errors
/// Unreachable shards; a refused change.
pub async fn run(meta: &MetadataClient, cmd: Option<ShardsCmd>, json: bool) -> anyhow::Result<()> {
    let shard_ok = |s: usize| {
        if s >= meta.shard_count() {
            anyhow::bail!("no shard {s}: the ring has {}", meta.shard_count());
        }
        Ok(())
    };
    match cmd.unwrap_or(ShardsCmd::Status) {
        ShardsCmd::Status => status(meta, json).await,
        ShardsCmd::Add { shard, id, url } => {
            shard_ok(shard)?;
            let st = change(meta, shard, MemberChange::Add { id, addr: url }).await?;
            print_group(shard, &[("leader".into(), Ok(st))], json)
        }
        ShardsCmd::Remove { shard, id } => {
            shard_ok(shard)?;
            let st = change(meta, shard, MemberChange::Remove { id }).await?;
            print_group(shard, &[("leader".into(), Ok(st))], json)
        }
        ShardsCmd::Move {
            shard,
            from,
            id,
            url,
        } => {
            shard_ok(shard)?;
            change(meta, shard, MemberChange::Add { id, addr: url }).await?;
            let st = change(meta, shard, MemberChange::Remove { id: from }).await?;
            print_group(shard, &[("leader".into(), Ok(st))], json)
        }
    }
}

async fn change(
    meta: &MetadataClient,
    shard: usize,
    c: MemberChange,
) -> anyhow::Result<ReplicaStatus> {
    eprintln!("shard {shard}: {c:?} (waits for a new replica to catch up)");
    meta.change_members(shard, &c)
        .await
        .with_context(|| format!("shard {shard}: {c:?}"))
}

async fn status(meta: &MetadataClient, json: bool) -> anyhow::Result<()> {
    let mut all = Vec::new();
    for shard in 0..meta.shard_count() {
        let replicas = meta.shard_status(shard).await;
        if json {
            all.push(serde_json::json!({
                "shard": shard,
                "replicas": replicas.iter().map(|(url, s)| match s {
                    Ok(s) => serde_json::json!({"url": url, "status": s}),
                    Err(e) => serde_json::json!({"url": url, "error": e.to_string()}),
                }).collect::<Vec<_>>(),
            }));
        } else {
            let shown: Vec<(String, Result<ReplicaStatus, String>)> = replicas
                .into_iter()
                .map(|(u, s)| (u, s.map_err(|e| e.to_string())))
                .collect();
            print_group(shard, &shown, false)?;
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(())
}

fn print_group(
    shard: usize,
    replicas: &[(String, Result<ReplicaStatus, String>)],
    json: bool,
) -> anyhow::Result<()> {
    if json {
        let v: Vec<_> = replicas
            .iter()
            .map(|(u, s)| match s {
                Ok(s) => serde_json::json!({"url": u, "status": s}),
                Err(e) => serde_json::json!({"url": u, "error": e}),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let leader = replicas.iter().find_map(|(_, s)| match s {
        Ok(s) if s.state == "Leader" => Some(s),
        _ => None,
    });
    match leader {
        Some(l) => println!(
            "shard {shard}: leader {} term {} applied {} voters {:?} learners {:?}",
            l.id,
            l.term,
            l.last_applied.map_or("-".into(), |i| i.to_string()),
            l.voters.keys().collect::<Vec<_>>(),
            l.learners.keys().collect::<Vec<_>>()
        ),
        None => println!("shard {shard}: NO LEADER"),
    }
    let head = leader.and_then(|l| l.last_log_index).unwrap_or(0);
    println!(
        "  {:<4} {:<10} {:>6} {:>10} {:>8}  URL",
        "ID", "STATE", "TERM", "APPLIED", "LAG"
    );
    for (url, s) in replicas {
        match s {
            Ok(s) => {
                let applied = s.last_applied.unwrap_or(0);
                println!(
                    "  {:<4} {:<10} {:>6} {:>10} {:>8}  {url}",
                    s.id,
                    s.state,
                    s.term,
                    applied,
                    head.saturating_sub(applied)
                );
            }
            Err(e) => println!(
                "  {:<4} {:<10} {:>6} {:>10} {:>8}  {url}  ({e})",
                "?", "DOWN", "-", "-", "-"
            ),
        }
    }
    Ok(())
}
