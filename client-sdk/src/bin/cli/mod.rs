//! What the m* commands share: the common flags and environment variables
//! (node-manta's), building the client, error lines (`cmd: path: Code:
//! message`), exit statuses, progress bars, content types.
//!
//! Each binary includes this module and uses the parts it needs.

#![allow(dead_code)]

pub mod attrs;
pub mod mchmod;
pub mod mfind;
pub mod mget;
pub mod mjob;
pub mod mls;
pub mod mmpu;
pub mod mput;
pub mod msign;
pub mod outfile;
pub mod simple;

use clap::Parser;
use client_sdk::{Client, Config};
use indicatif::{ProgressBar, ProgressStyle};
use std::future::Future;
use std::io::IsTerminal;
use std::process::ExitCode;

/// The environment every command reads, for `--help`.
pub const ENV_HELP: &str = "\
Environment:
  MANTA_URL           Manta URL (-u); required
  MANTA_USER          account login (-a); required unless MANTA_NO_AUTH=true
  MANTA_KEY_ID        SSH key fingerprint (-k); default: the first key found
  MANTA_SUBUSER       RBAC sub-user (--user)
  MANTA_ROLE          roles to assume (--role)
  MANTA_KEY_FILE      private key file to sign with (else ssh-agent, ~/.ssh)
  MANTA_TLS_INSECURE  set (not 0/false): do not verify the TLS certificate (-i)
  MANTA_CA_FILE       PEM file of CA certificates to trust too (--ca-file)
  MANTA_NO_AUTH       true: send no signature (inside jobs)
  MANTA_DEFAULT_CONTENT_TYPE  type for unknown extensions (mput)
  SSH_AUTH_SOCK       ssh-agent to sign with";

/// Flags every command takes (node-manta's `DEFAULT_CLI_OPTIONS`).
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Manta account (login); required unless MANTA_NO_AUTH=true
    #[arg(
        short = 'a',
        long = "account",
        env = "MANTA_USER",
        value_name = "ACCOUNT"
    )]
    pub account: Option<String>,
    /// Sub-user of the account (RBAC)
    #[arg(
        long = "user",
        alias = "subuser",
        env = "MANTA_SUBUSER",
        value_name = "USER"
    )]
    pub subuser: Option<String>,
    /// Fingerprint of the SSH key (MD5 or SHA256 form); default: the
    /// first key of ssh-agent or ~/.ssh (or MANTA_KEY_FILE)
    #[arg(short = 'k', long = "keyId", env = "MANTA_KEY_ID", value_name = "FP")]
    pub key_id: Option<String>,
    /// Manta URL; required
    #[arg(short = 'u', long = "url", env = "MANTA_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Do not validate the server's TLS certificate (also MANTA_TLS_INSECURE)
    #[arg(short = 'i', long = "insecure")]
    pub insecure: bool,
    /// Also trust the CA certificates in this PEM file
    #[arg(long = "ca-file", env = "MANTA_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// Active roles (comma separated)
    #[arg(long = "role", env = "MANTA_ROLE", value_name = "ROLE,ROLE")]
    pub role: Option<String>,
    /// Verbose output (accepted for compatibility)
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Common {
    /// The client these flags and the environment describe.
    pub fn client(&self) -> anyhow::Result<Client> {
        let mut url = self
            .url
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| anyhow::anyhow!("url is a required argument"))?;
        if !url.contains("://") {
            // As node-manta: a bare host means https.
            url = format!("https://{url}");
        }
        let no_auth = std::env::var("MANTA_NO_AUTH").is_ok_and(|v| v == "true");
        let account = self.account.clone().unwrap_or_default();
        if account.is_empty() && !no_auth {
            anyhow::bail!("account is a required argument");
        }
        let mut cfg = Config::new(&url, &account);
        cfg.subuser = self.subuser.clone();
        cfg.key_id = self.key_id.clone();
        cfg.key_file = std::env::var_os("MANTA_KEY_FILE")
            .filter(|v| !v.is_empty())
            .map(Into::into);
        cfg.insecure = self.insecure
            || std::env::var("MANTA_TLS_INSECURE")
                .is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        cfg.ca_file = self.ca_file.clone().filter(|f| !f.as_os_str().is_empty());
        cfg.no_auth = no_auth;
        cfg.roles = self.role.clone();
        Ok(Client::new(cfg)?)
    }

    /// `~~` expansion and, like mls, relative paths under `/:login/stor`.
    pub fn user(&self) -> &str {
        self.account.as_deref().unwrap_or("")
    }
}

/// A command: its flags (with [`Common`]) and what it does.
pub trait Cmd: Parser {
    fn common(&self) -> &Common;
    fn run(self, client: Client) -> impl Future<Output = anyhow::Result<()>>;
}

/// The error a command returns once it has printed its own messages.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

impl std::error::Error for Reported {}

/// `path: Code: message`, the line scripts can parse.
pub fn path_err(path: &str, e: &client_sdk::Error) -> anyhow::Error {
    anyhow::anyhow!("{path}: {}: {}", e.code(), e.message())
}

/// Parses flags (exit 1 on bad ones, as node-manta; 0 for --help), runs
/// the command, prints `name: message` on failure and exits 1. A failure
/// is one line, never a stack trace (a panic prints its message only);
/// a closed stdout (`mfind | head`) ends the command quietly.
pub fn main<C: Cmd>(name: &str) -> ExitCode {
    let cmd_name = name.to_string();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "internal error".into());
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        eprintln!("{cmd_name}: {msg}");
    }));
    let parsed = C::command()
        .after_help(ENV_HELP)
        .try_get_matches()
        .and_then(|m| C::from_arg_matches(&m));
    let cmd = match parsed {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: start runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async move {
        let client = cmd.common().client()?;
        cmd.run(client).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.is::<Reported>() => ExitCode::from(1),
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Whether an error is a write to a closed pipe.
pub fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// stderr as a progress bar's terminal when it is not one (`--progress`
/// with stderr redirected): each redraw starts the line again with `\r`.
#[derive(Debug)]
struct PlainStderr;

impl indicatif::TermLike for PlainStderr {
    fn width(&self) -> u16 {
        80
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        writeln!(std::io::stderr(), "{s}")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        write!(std::io::stderr(), "{s}")
    }
    fn clear_line(&self) -> std::io::Result<()> {
        use std::io::Write;
        write!(std::io::stderr(), "\r")
    }
    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().flush()
    }
}

/// A byte-count progress bar on stderr, or `None` when stderr is not a
/// terminal (unless forced with `--progress`, which draws on stderr
/// anyway, as node-manta's does) or `quiet`.
pub fn progress_bar(
    label: &str,
    len: Option<u64>,
    quiet: bool,
    force: bool,
) -> Option<ProgressBar> {
    if quiet || !(force || std::io::stderr().is_terminal()) {
        return None;
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(label.to_string());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::term_like_with_hz(
            Box::new(PlainStderr),
            2,
        ));
    }
    Some(bar)
}

/// Content type from the extension, as node-manta's `mime.getType`, else
/// `MANTA_DEFAULT_CONTENT_TYPE` or `application/octet-stream`.
pub fn content_type(path: &str) -> String {
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    let known = match ext.as_deref() {
        Some("txt" | "text" | "log" | "conf" | "ini") => "text/plain",
        Some("html" | "htm") => "text/html",
        Some("css") => "text/css",
        Some("csv") => "text/csv",
        Some("md" | "markdown") => "text/markdown",
        Some("yaml" | "yml") => "text/yaml",
        Some("json" | "map") => "application/json",
        Some("js" | "mjs") => "application/javascript",
        Some("xml") => "application/xml",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("tar") => "application/x-tar",
        Some("sh") => "application/x-sh",
        Some("wasm") => "application/wasm",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("mp4") => "video/mp4",
        _ => "",
    };
    if known.is_empty() {
        std::env::var("MANTA_DEFAULT_CONTENT_TYPE")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "application/octet-stream".into())
    } else {
        known.to_string()
    }
}

/// `-H 'name: value'` into a pair.
pub fn parse_header(h: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = h
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("header must be in the form of \"[header]: value\""))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// All `-H` flags.
pub fn parse_headers(hs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    hs.iter().map(|h| parse_header(h)).collect()
}

/// Every path resolved, as node-manta's: a path must start with `/` or
/// `~~`, and any other is an error naming it (not skipped).
pub fn manta_paths(client: &Client, args: &[String]) -> anyhow::Result<Vec<String>> {
    if args.is_empty() {
        anyhow::bail!("path required");
    }
    args.iter()
        .map(|p| client.resolve(p).map_err(|e| anyhow::anyhow!("{e}")))
        .collect()
}
