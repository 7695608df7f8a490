//! [`Lab`]: "hosts" made of network namespaces on one bridge, reachable
//! from the test's own (root) namespace.
//!
//! The bridge lives in a hub namespace of its own, so the root namespace's
//! firewall and bridge-netfilter settings cannot drop traffic between
//! hosts; the root namespace joins it through one veth pair, as the
//! subnet's `.1`. Each run claims a subnet `10.77.X.0/24` by creating the
//! hub namespace `mantad-mhX-hub`, which fails if another run holds it, so
//! parallel runs never share addresses. Everything is removed on drop, even
//! after a panic; namespaces left by a run that was SIGKILLed (its pid,
//! recorded as the bridge's alias, is gone) are removed by the next run.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output};

const PREFIX: &str = "mantad-mh";

/// The namespaces, bridge and links of one test run.
pub struct Lab {
    x: u8,
    /// Host namespaces made so far (without the hub), by short name.
    hosts: Vec<String>,
}

impl Lab {
    /// Claims a free subnet and builds the hub with its bridge, joined to
    /// the root namespace.
    pub fn new() -> Lab {
        sweep_stale();
        let x = (1..=254u8)
            .find(|&x| subnet_free(x) && ip_ok(&["netns", "add", &hub(x)]))
            .expect("no free 10.77.X.0/24 subnet");
        let lab = Lab {
            x,
            hosts: Vec::new(),
        };
        let hub = hub(x);
        let alias = format!("mantad-test pid={}", std::process::id());
        ip(&["-n", &hub, "link", "add", "name", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "link", "set", "dev", "br0", "alias", &alias]);
        ip(&["-n", &hub, "link", "set", "dev", "br0", "up"]);
        let root = lab.root_link();
        ip(&[
            "link", "add", "name", &root, "type", "veth", "peer", "name", "uplink", "netns", &hub,
        ]);
        ip(&[
            "-n", &hub, "link", "set", "dev", "uplink", "master", "br0", "up",
        ]);
        ip(&["addr", "add", &format!("{}/24", lab.addr(1)), "dev", &root]);
        ip(&["link", "set", "dev", &root, "up"]);
        lab
    }

    /// Address `.host` of this run's subnet.
    pub fn addr(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.x, host)
    }

    /// The namespace of host `name`.
    pub fn ns(&self, name: &str) -> String {
        format!("{PREFIX}{}-{name}", self.x)
    }

    /// Makes host `name` (a short word: it also names its link on the
    /// bridge) with address `.host`, plugged into the bridge.
    pub fn add_host(&mut self, name: &str, host: u8) -> Ipv4Addr {
        let ns = self.ns(name);
        let hub = hub(self.x);
        ip(&["netns", "add", &ns]);
        self.hosts.push(name.to_string());
        ip(&[
            "-n", &hub, "link", "add", "name", name, "type", "veth", "peer", "name", "eth0",
            "netns", &ns,
        ]);
        ip(&[
            "-n", &hub, "link", "set", "dev", name, "master", "br0", "up",
        ]);
        let addr = self.addr(host);
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &ns, "link", "set", "dev", "eth0", "up"]);
        ip(&["-n", &ns, "link", "set", "dev", "lo", "up"]);
        addr
    }

    /// Pulls host `name`'s cable: its link leaves the bridge, so packets to
    /// it vanish (no reset, no refusal), as when a machine dies. Its
    /// address stays resolvable everywhere, as it would behind a router:
    /// on a bridge alone, failed ARP would give senders an early error
    /// that a routed network does not.
    pub fn unplug(&self, name: &str, host: u8) {
        let ns = self.ns(name);
        let link = run(&["-n", &ns, "-o", "link", "show", "dev", "eth0"]);
        let text = String::from_utf8_lossy(&link.stdout);
        let mac = text
            .split("link/ether ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no MAC for {name}: {text}"))
            .to_string();
        let addr = self.addr(host).to_string();
        let pin = |netns: Option<&str>, dev: &str| {
            let mut args = Vec::new();
            if let Some(n) = netns {
                args.extend(["-n", n]);
            }
            args.extend([
                "neigh",
                "replace",
                &addr,
                "lladdr",
                &mac,
                "dev",
                dev,
                "nud",
                "permanent",
            ]);
            ip(&args);
        };
        pin(None, &self.root_link());
        for other in self.hosts.iter().filter(|h| *h != name) {
            pin(Some(&self.ns(other)), "eth0");
        }
        ip(&["-n", &hub(self.x), "link", "del", "dev", name]);
    }

    /// Kills whatever still runs in host `name` and deletes its namespace
    /// (which [`Drop`] then finds gone).
    pub fn remove_host(&self, name: &str) {
        remove_ns(&self.ns(name));
    }

    /// A command that runs `program` inside host `name`.
    pub fn command(&self, name: &str, program: &Path) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("ip");
        cmd.args(["netns", "exec", &self.ns(name)]).arg(program);
        cmd
    }

    fn root_link(&self) -> String {
        format!("mh{}r", self.x)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for h in std::mem::take(&mut self.hosts) {
            remove_ns(&self.ns(&h));
        }
        // The hub's end of the root link goes with the hub, and with it the
        // root end and the subnet's route.
        remove_ns(&hub(self.x));
    }
}

fn hub(x: u8) -> String {
    format!("{PREFIX}{x}-hub")
}

/// No address of the root namespace is in `10.77.x.0/24`.
fn subnet_free(x: u8) -> bool {
    let out = run(&["-4", "-o", "addr", "show"]);
    !String::from_utf8_lossy(&out.stdout).contains(&format!(" 10.77.{x}."))
}

/// Removes the namespaces of runs whose process is gone.
fn sweep_stale() {
    let list = run(&["netns", "list"]);
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    for hub in names
        .iter()
        .filter(|n| n.starts_with(PREFIX) && n.ends_with("-hub"))
    {
        let link = run(&["-n", hub, "-o", "link", "show", "dev", "br0"]);
        let text = String::from_utf8_lossy(&link.stdout);
        let owner = text
            .split("alias mantad-test pid=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|p| p.parse::<u32>().ok());
        // No alias yet: a run between creating its hub and naming itself.
        if owner.is_none_or(|pid| Path::new(&format!("/proc/{pid}")).exists()) {
            continue;
        }
        let run_prefix = hub.trim_end_matches("hub");
        for ns in names.iter().filter(|n| n.starts_with(run_prefix)) {
            remove_ns(ns);
        }
    }
}

/// SIGKILLs every process in `ns`, then deletes it (a namespace outlives
/// its name while a process is in it).
fn remove_ns(ns: &str) {
    let pids = run(&["netns", "pids", ns]);
    for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
        if let Ok(pid) = pid.parse::<i32>() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    let _ = run(&["netns", "del", ns]);
}

fn run(args: &[&str]) -> Output {
    Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run ip {args:?}: {e}"))
}

fn ip_ok(args: &[&str]) -> bool {
    run(args).status.success()
}

/// Runs `ip args`; panics with its stderr if it fails.
fn ip(args: &[&str]) {
    let out = run(args);
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
