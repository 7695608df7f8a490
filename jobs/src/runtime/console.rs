//! A task with a terminal (mlogin): the runtime is started with
//! `--console-socket`, makes a pty for the container and sends its master
//! over that unix socket (`SCM_RIGHTS`); [`ConsoleServer`] takes it and
//! hands it to the task's [`ConsoleSink`]. Window sizes are set on the
//! master ([`set_size`]).

use std::fmt;
use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustix::net::{recvmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
use tokio::sync::oneshot;

use crate::error::IoContext;
use crate::Result;

/// Where a task run with a terminal hands its pty's master.
#[derive(Clone, Default)]
pub struct ConsoleSink(Arc<Mutex<Option<oneshot::Sender<OwnedFd>>>>);

impl fmt::Debug for ConsoleSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsoleSink(..)")
    }
}

impl ConsoleSink {
    /// A sink and the receiver its master fd arrives on.
    pub fn new() -> (Self, oneshot::Receiver<OwnedFd>) {
        let (tx, rx) = oneshot::channel();
        (ConsoleSink(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    fn deliver(&self, fd: OwnedFd) {
        if let Some(tx) = self.0.lock().ok().and_then(|mut s| s.take()) {
            let _ = tx.send(fd);
        }
    }
}

/// Sets the window size of a pty (its master).
///
/// # Errors
/// The ioctl fails (not a terminal).
pub fn set_size(master: &OwnedFd, columns: u16, lines: u16) -> std::io::Result<()> {
    let ws = rustix::termios::Winsize {
        ws_row: lines,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(master, ws).map_err(std::io::Error::from)
}

/// The socket the runtime sends the master on; stops listening and
/// removes the socket when dropped.
pub(crate) struct ConsoleServer {
    pub path: PathBuf,
    task: tokio::task::AbortHandle,
}

impl ConsoleServer {
    /// Listens at a short path (a unix socket path has at most 108 bytes).
    pub(crate) fn start(id: &str, sink: ConsoleSink) -> Result<Self> {
        let path = std::env::temp_dir().join(format!("mantad-console-{id}.sock"));
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path).ctx("bind console socket", &path)?;
        let task = tokio::spawn(async move {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let Ok(stream) = stream.into_std() else {
                return;
            };
            let got = tokio::task::spawn_blocking(move || {
                stream.set_nonblocking(false)?;
                receive_fd(&stream)
            })
            .await;
            match got {
                Ok(Ok(fd)) => sink.deliver(fd),
                Ok(Err(e)) => tracing::warn!(error = %e, "no pty from the runtime"),
                Err(e) => tracing::warn!(error = %e, "console receiver failed"),
            }
        });
        Ok(ConsoleServer {
            path,
            task: task.abort_handle(),
        })
    }
}

impl Drop for ConsoleServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

fn receive_fd(stream: &std::os::unix::net::UnixStream) -> std::io::Result<OwnedFd> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    recvmsg(stream, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC)?;
    for msg in control.drain() {
        if let RecvAncillaryMessage::ScmRights(mut fds) = msg {
            if let Some(fd) = fds.next() {
                return Ok(fd);
            }
        }
    }
    Err(std::io::Error::other("the runtime sent no file descriptor"))
}
