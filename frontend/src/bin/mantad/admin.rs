//! `mantad admin`: the operator's view of the cluster and its levers:
//! node states (`nodes`, `drain`, `remove`, `restore`), repair and garbage
//! collection (`repair status|run`, `gc status|run`) and one overall view
//! (`status`); the metadata shards' Raft groups (`shards`, see
//! [`crate::shards`]). Everything goes through the metadata tier, so it works from
//! any host holding a frontend config (or `--dev DATA`).

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use frontend::maintain::{control, report::Status};
use frontend::store::{NodeState, Timeouts};
use metadata_tier::registry::{AdminState, LiveNode, NodeAdmin};
use metadata_tier::wire::Keyspace;
use metadata_tier::MetadataClient;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct AdminArgs {
    /// A frontend config file naming the shards and the cluster secret.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The data dir of a running `mantad dev` (reads its frontend.toml).
    #[arg(long, global = true)]
    dev: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: AdminCmd,
}

#[derive(Subcommand, Debug)]
enum AdminCmd {
    /// The cluster at a glance: nodes, shards, space, durability.
    Status,
    /// Every storage node with its state, space and blob counts.
    Nodes,
    /// Stop placing copies on NODE and move its copies elsewhere.
    Drain {
        node: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Declare NODE gone for good: its copies are made again elsewhere.
    Remove {
        node: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Put a drained or removed NODE back in service.
    Restore { node: String },
    /// Repair: `status`, or `run` a pass now.
    Repair {
        #[command(subcommand)]
        cmd: PassCmd,
    },
    /// Garbage collection: `status`, or `run` a pass now.
    Gc {
        #[command(subcommand)]
        cmd: PassCmd,
    },
    /// Metadata shards' Raft groups: `status` (leader, term, replicas,
    /// lag), `add`, `remove`, `move` a replica.
    Shards {
        #[command(subcommand)]
        cmd: Option<crate::shards::ShardsCmd>,
    },
}

#[derive(Subcommand, Debug)]
enum PassCmd {
    /// The last pass, the one running, and totals.
    Status,
    /// Ask for a pass now (repair and collection run as one pass).
    Run {
        /// Wait until the pass ends, then print its report.
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this long (`"10m"`).
        #[arg(long, default_value = "30m")]
        timeout: String,
    },
}

struct Ctx {
    meta: MetadataClient,
    timeouts: Timeouts,
    json: bool,
}

/// Runs one admin command.
///
/// # Errors
/// A bad config, unreachable shards, an unknown node.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let (cfg, meta) = crate::nodes::connect(args.config, args.dev)?;
    let parse = |k: &str, v: &str| {
        humantime::parse_duration(v).with_context(|| format!("config key {k}: {v:?}"))
    };
    let ctx = Ctx {
        meta,
        timeouts: Timeouts {
            down: parse("heartbeat_timeout", &cfg.heartbeat_timeout)?,
            lost: parse("node_lost_after", &cfg.node_lost_after)?,
        },
        json: args.json,
    };
    match args.cmd {
        AdminCmd::Status => status(&ctx).await,
        AdminCmd::Nodes => nodes(&ctx).await,
        AdminCmd::Drain { node, reason } => {
            set(&ctx, &node, Some(AdminState::Draining), reason).await
        }
        AdminCmd::Remove { node, reason } => set(&ctx, &node, Some(AdminState::Lost), reason).await,
        AdminCmd::Restore { node } => set(&ctx, &node, None, String::new()).await,
        AdminCmd::Repair { cmd } | AdminCmd::Gc { cmd } => pass(&ctx, cmd).await,
        AdminCmd::Shards { cmd } => crate::shards::run(&ctx.meta, cmd, ctx.json).await,
    }
}

async fn registry(ctx: &Ctx) -> anyhow::Result<Vec<LiveNode>> {
    ctx.meta.nodes().await.context("read the node registry")
}

async fn nodes(ctx: &Ctx) -> anyhow::Result<()> {
    let nodes = registry(ctx).await?;
    if ctx.json {
        for n in &nodes {
            let line = serde_json::json!({
                "id": n.record.id, "state": ctx.timeouts.state(n), "addr": n.record.addr,
                "heartbeat_age_ms": n.age_ms, "free_bytes": n.record.free_bytes,
                "used_bytes": n.record.used_bytes, "blobs": n.record.blob_count,
                "reason": n.admin.as_ref().map(|a| a.reason.clone()),
            });
            println!("{line}");
        }
        return Ok(());
    }
    println!(
        "{:<20} {:<9} {:>9} {:>10} {:>10} {:>9}  ADDR",
        "NODE", "STATE", "HEARD", "FREE", "USED", "BLOBS"
    );
    for n in &nodes {
        println!(
            "{:<20} {:<9} {:>9} {:>10} {:>10} {:>9}  {}",
            n.record.id,
            state_name(ctx.timeouts.state(n)),
            format!("{}s ago", n.age_ms / 1000),
            bytesize::ByteSize(n.record.free_bytes).to_string(),
            bytesize::ByteSize(n.record.used_bytes).to_string(),
            n.record.blob_count,
            n.record.addr
        );
    }
    Ok(())
}

fn state_name(s: NodeState) -> &'static str {
    match s {
        NodeState::Up => "up",
        NodeState::Down => "down",
        NodeState::Draining => "draining",
        NodeState::Lost => "lost",
    }
}

async fn set(
    ctx: &Ctx,
    node: &str,
    state: Option<AdminState>,
    reason: String,
) -> anyhow::Result<()> {
    let known = registry(ctx).await?;
    if !known.iter().any(|n| n.record.id == node) {
        let ids: Vec<&str> = known.iter().map(|n| n.record.id.as_str()).collect();
        bail!(
            "no storage node {node:?} in the registry (known: {})",
            ids.join(", ")
        );
    }
    let admin = state.map(|state| NodeAdmin { state, reason });
    ctx.meta
        .set_node_admin(node, admin.as_ref())
        .await
        .with_context(|| format!("set the state of {node}"))?;
    let what = match state {
        Some(AdminState::Draining) => "draining: no new copies; repair moves its copies elsewhere, then garbage collection empties it",
        Some(AdminState::Lost) => "removed: its copies no longer count and are made again elsewhere",
        None => "back in service",
    };
    println!("{node}: {what}");
    Ok(())
}

async fn pass(ctx: &Ctx, cmd: PassCmd) -> anyhow::Result<()> {
    match cmd {
        PassCmd::Status => {
            let st = control::read_status(&ctx.meta).await?;
            print_status(ctx, &st)
        }
        PassCmd::Run { wait, timeout } => {
            let id = control::request_pass(&ctx.meta).await?;
            if !wait {
                println!("pass requested ({id}); the frontend holding the maintenance lease starts it within seconds");
                return Ok(());
            }
            let limit = humantime::parse_duration(&timeout).context("--timeout")?;
            let start = std::time::Instant::now();
            loop {
                let st = control::read_status(&ctx.meta).await?;
                let served = st.last.as_ref().and_then(|l| l.served_request.as_deref());
                if served == Some(id.as_str()) {
                    return print_status(ctx, &st);
                }
                if start.elapsed() > limit {
                    bail!("no pass served the request within {timeout} (is a frontend with maintenance_interval set running?)");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

fn print_status(ctx: &Ctx, st: &Status) -> anyhow::Result<()> {
    if ctx.json {
        println!("{}", serde_json::to_string(st)?);
        return Ok(());
    }
    match &st.last {
        None => println!("no pass has completed yet"),
        Some(l) => {
            println!(
                "last pass: {} .. {} by {}",
                frontend::time::iso8601(l.started_ms),
                frontend::time::iso8601(l.ended_ms),
                l.holder
            );
            println!(
                "  scanned {} records, {} blob references; {} below durability, {} still below, {} unrecoverable",
                l.records_scanned, l.blobs_checked, l.below_durability, l.still_below, l.unrecoverable
            );
            println!(
                "  repair: {} copies made ({}), {} failures, {} raced",
                l.copies_made,
                bytesize::ByteSize(l.bytes_copied),
                l.repair_failures,
                l.raced
            );
            println!(
                "  gc: {} blobs deleted ({}), {} spared as young, {} failures",
                l.gc_deleted_blobs,
                bytesize::ByteSize(l.gc_deleted_bytes),
                l.gc_spared_young,
                l.gc_failures
            );
            println!(
                "  uploads: {} finished multipart uploads removed",
                l.uploads_removed
            );
        }
    }
    if let Some(r) = &st.running {
        println!(
            "running since {}: {} records scanned so far",
            frontend::time::iso8601(r.started_ms),
            r.records_scanned
        );
    }
    let t = &st.totals;
    println!(
        "totals: {} passes, {} copies made ({}), {} blobs collected ({})",
        t.passes,
        t.copies_made,
        bytesize::ByteSize(t.bytes_copied),
        t.gc_deleted_blobs,
        bytesize::ByteSize(t.gc_deleted_bytes)
    );
    Ok(())
}

async fn status(ctx: &Ctx) -> anyhow::Result<()> {
    let nodes = registry(ctx).await?;
    let mut by_state = std::collections::BTreeMap::new();
    let (mut free, mut used, mut blobs) = (0u64, 0u64, 0u64);
    for n in &nodes {
        *by_state
            .entry(state_name(ctx.timeouts.state(n)))
            .or_insert(0u32) += 1;
        free += n.record.free_bytes;
        used += n.record.used_bytes;
        blobs += n.record.blob_count;
    }
    let mut shards = Vec::new();
    for i in 0..ctx.meta.shard_count() {
        let ok = ctx.meta.scan(i, Keyspace::Accounts, None, 1).await;
        shards.push(serde_json::json!({
            "shard": ctx.meta.ring().shards().get(i),
            "reachable": ok.is_ok(),
            "error": ok.err().map(|e| e.to_string()),
        }));
    }
    let st = control::read_status(&ctx.meta).await?;
    let below = st.last.as_ref().map(|l| l.still_below);
    let jobs = ctx.meta.count(Keyspace::Jobs, "running").await.ok();
    if ctx.json {
        let v = serde_json::json!({
            "nodes": by_state, "free_bytes": free, "used_bytes": used, "blobs": blobs,
            "shards": shards, "below_durability": below, "maintenance": st,
            "jobs_running": jobs,
        });
        println!("{v}");
        return Ok(());
    }
    let states: Vec<String> = by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("storage nodes: {} ({})", nodes.len(), states.join(", "));
    println!(
        "space: {} used in {} blobs, {} free",
        bytesize::ByteSize(used),
        blobs,
        bytesize::ByteSize(free)
    );
    for s in &shards {
        let state = if s["reachable"] == true {
            "reachable"
        } else {
            "UNREACHABLE"
        };
        println!(
            "metadata shard {}: {state}",
            s["shard"].as_str().unwrap_or("?")
        );
    }
    match below {
        Some(b) => println!("objects below durability at the last pass: {b}"),
        None => println!("objects below durability: unknown (no pass has completed yet)"),
    }
    print_status(ctx, &st)
}
