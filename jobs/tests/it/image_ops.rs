//! What `mantad image import|ls|rm` calls (the command-line layer lives
//! with the binary): import from a path, a URL or an async stream (an
//! object's bytes), list, remove. Running is covered by `run.rs`.

use jobs::image::{ensure_default_image, import_async, import_path, import_url, ImageStore};

use crate::common::*;

#[tokio::test]
async fn import_ls_rm() {
    let state = tempfile::tempdir().unwrap();
    let archive = state.path().join("image.tar");
    std::fs::write(&archive, docker_save(&standard_layers())).unwrap();
    let store = ImageStore::open(state.path()).unwrap();
    let record = import_path(&store, &archive, "t").unwrap();
    assert_eq!(record.layers.len(), 3);
    ensure_default_image(&store).unwrap();
    let names: Vec<_> = store.list().unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["default", "t"]);
    store.remove("t").unwrap();
    assert!(store.remove("t").is_err());
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
    let store = ImageStore::open(state.path()).unwrap();
    let record = import_url(&store, &url, "fromurl").await.unwrap();
    assert_eq!(record.layers.len(), 3);
    assert_eq!(store.get("fromurl").unwrap().layers.len(), 3);
    // The second fetch gets 404: a clear error, nothing imported.
    let err = import_url(&store, &url, "again").await.unwrap_err();
    assert!(matches!(err, jobs::Error::Fetch { .. }), "{err}");
    assert!(err.to_string().contains("404"), "{err}");
    assert!(store.get("again").is_err());
}
