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
