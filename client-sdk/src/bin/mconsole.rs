//! mconsole: print a one-time sign-in link for the web console.

use clap::Parser;
use client_sdk::console::MAX_EXPIRY_SECS;
use client_sdk::{Client, Signer};
use std::path::PathBuf;
use std::process::ExitCode;

mod cli;

/// Print a one-time link that signs the account in to the web console.
#[derive(Parser, Debug)]
#[command(
    name = "mconsole",
    version,
    about = "Print a one-time sign-in link for the web console (/console/)"
)]
struct Args {
    #[command(flatten)]
    common: cli::Common,
    /// Lifetime of the link: 30s, 5m (the default), 1h (the longest)
    #[arg(
        short = 'e',
        long = "expires",
        value_name = "DURATION",
        default_value = "5m"
    )]
    expires: String,
    /// Private key file to sign with (default: ssh-agent, ~/.ssh, MANTA_KEY_FILE)
    #[arg(short = 'f', long = "file", value_name = "PRIVATE_KEY")]
    file: Option<PathBuf>,
}

/// `30s`, `5m`, `1h` as seconds, at most [`MAX_EXPIRY_SECS`].
fn lifetime(spec: &str) -> anyhow::Result<u64> {
    let bad = || anyhow::anyhow!("invalid expiry {spec:?} (use e.g. 30s, 5m, 1h)");
    let (num, unit) = spec.split_at(spec.len().saturating_sub(1));
    let (num, mult) = match unit {
        "s" => (num, 1),
        "m" => (num, 60),
        "h" => (num, 3600),
        _ => (spec, 1),
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = n.checked_mul(mult).ok_or_else(bad)?;
    if secs == 0 || secs > MAX_EXPIRY_SECS {
        anyhow::bail!("expiry must be between 1s and {MAX_EXPIRY_SECS}s: {spec}");
    }
    Ok(secs)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let secs = lifetime(&args.expires)?;
    let client = args.common.client()?;
    let client = match &args.file {
        Some(f) => Client::with_signer(client.config().clone(), Some(Signer::from_file(f)?))?,
        None => client,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    println!("{}", client.console_login_url(now + secs)?);
    Ok(())
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mconsole: start runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mconsole: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes() {
        assert_eq!(lifetime("30s").unwrap(), 30);
        assert_eq!(
            lifetime("5m").unwrap(),
            client_sdk::console::DEFAULT_EXPIRY_SECS
        );
        assert_eq!(lifetime("1h").unwrap(), 3600);
        assert_eq!(lifetime("90").unwrap(), 90);
        for bad in ["0s", "2h", "", "x", "5d"] {
            assert!(lifetime(bad).is_err(), "{bad}");
        }
    }
}
