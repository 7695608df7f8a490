//! The operator commands, through the same functions `mantad image` calls,
//! and import from an async stream (an object's bytes).

use clap::Parser;
use jobs::cli::{run_image_command, ImageCommand};
use jobs::image::{import_async, ImageStore};

use crate::common::*;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    image: ImageCommand,
}

fn parse(args: &[&str]) -> ImageCommand {
    Cli::try_parse_from(std::iter::once("image").chain(args.iter().copied()))
        .unwrap()
        .image
}

#[tokio::test]
async fn import_ls_run_rm() {
    let state = tempfile::tempdir().unwrap();
    let archive = state.path().join("image.tar");
    std::fs::write(&archive, docker_save(&standard_layers())).unwrap();
    let path = archive.display().to_string();
    let s = state.path();
    assert_eq!(
        run_image_command(s, parse(&["import", &path, "--name", "t"]))
            .await
            .unwrap(),
        0
    );
    assert_eq!(run_image_command(s, parse(&["ls"])).await.unwrap(), 0);
    let names: Vec<_> = ImageStore::open(s)
        .unwrap()
        .list()
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["default", "t"]);
    let run = parse(&[
        "run",
        "t",
        "--runtime",
        "runc",
        "--stdin",
        &path,
        "--",
        "wc -c >/dev/null; exit 3",
    ]);
    assert_eq!(run_image_command(s, run).await.unwrap(), 3);
    let run = parse(&["run", "default", "--", "true"]);
    assert_eq!(
        run_image_command(s, run).await.unwrap(),
        0,
        "runsc is the default"
    );
    assert_eq!(run_image_command(s, parse(&["rm", "t"])).await.unwrap(), 0);
    assert!(run_image_command(s, parse(&["rm", "t"])).await.is_err());
}

#[tokio::test]
async fn import_from_an_async_stream() {
    let state = tempfile::tempdir().unwrap();
    let store = ImageStore::open(state.path()).unwrap();
    // `docker save | gzip`, as users keep them.
    let archive = gzip(&docker_save(&standard_layers()));
    let record = import_async(&store, &archive[..], "streamed")
        .await
        .unwrap();
    assert_eq!(record.layers.len(), 3);
    assert_eq!(
        std::fs::read_dir(state.path().join("tmp")).unwrap().count(),
        0,
        "staging removed"
    );
}

/// Serves `body` once over HTTP/1.1 on loopback, as the store would serve an
/// object; answers 404 to a second connection.
async fn serve_once(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let (status, body) = if first {
                ("200 OK", &body[..])
            } else {
                ("404 Not Found", &b""[..])
            };
            first = false;
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body).await;
        }
    });
    format!("http://{addr}/dev/public/image.tar")
}

#[tokio::test]
async fn import_from_a_url() {
    let state = tempfile::tempdir().unwrap();
    let url = serve_once(docker_save(&standard_layers())).await;
    let s = state.path();
    assert_eq!(
        run_image_command(s, parse(&["import", &url, "--name", "fromurl"]))
            .await
            .unwrap(),
        0
    );
    let store = ImageStore::open(s).unwrap();
    assert_eq!(store.get("fromurl").unwrap().layers.len(), 3);
    // The second fetch gets 404: a clear error, nothing imported.
    let err = run_image_command(s, parse(&["import", &url, "--name", "again"]))
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("404"), "{err:#}");
    assert!(store.get("again").is_err());
}
