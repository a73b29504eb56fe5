//! berth-image against Debian's docker-registry: push/pull round trips (OCI and Docker schema 2),
//! a two-platform index, a corrupted blob, a registry dying mid-pull, basic and bearer auth.

mod common;

use std::fs;

use common::image::{sha256, store_index, Compression, Layer, TestImage};
use common::proxy::Proxy;
use common::registry::{free_port, Auth, Registry};
use common::token::TokenServer;
use common::{berth_image, berth_image_env, blob, temp_dir};
use serde_json::{json, Value};

fn small_image(arch: &str, docker: bool) -> TestImage {
    let mut image = TestImage::new(
        arch,
        json!({"Cmd": ["/bin/true"], "Env": [format!("ARCH={arch}")]}),
    );
    image.docker = docker;
    image
        .layer(
            Layer::new()
                .dir("etc")
                .file("etc/hello", format!("hello {arch}\n").as_bytes()),
            Compression::Gzip,
        )
        .layer(
            Layer::new().file("etc/zstd", b"compressed with zstd"),
            Compression::Zstd,
        )
        .layer(
            Layer::new().file("etc/plain", b"not compressed"),
            Compression::None,
        )
}

/// Pushes `image` from a scratch store as `reference`; returns the manifest digest.
fn push(image: &TestImage, reference: &str) -> String {
    let source = temp_dir();
    let digest = image.store(source.path(), reference);
    let out = berth_image(source.path(), &["push", reference]);
    assert_eq!(out.ok().split_whitespace().last(), Some(digest.as_str()));
    digest
}

fn inspect(store: &std::path::Path, reference: &str) -> Value {
    serde_json::from_str(berth_image(store, &["inspect", reference]).ok()).unwrap()
}

#[test]
fn push_pull_round_trip_keeps_digests_oci_and_docker() {
    let registry = Registry::start(Auth::Anonymous);
    for (name, docker) in [("oci", false), ("docker", true)] {
        let reference = format!("{}/round/{name}:v1", registry.addr);
        let image = small_image("amd64", docker);
        let digest = push(&image, &reference);
        let store = temp_dir();
        let pulled = berth_image(store.path(), &["pull", &reference]);
        assert_eq!(pulled.ok().trim(), format!("{reference} {digest}"));
        let info = inspect(store.path(), &reference);
        assert_eq!(info["digest"], digest);
        for layer in &image.layers {
            assert_eq!(
                fs::read(blob(store.path(), &sha256(&layer.bytes))).unwrap(),
                layer.bytes
            );
        }
        let listed = berth_image(store.path(), &["images"]);
        assert!(listed.ok().contains(&reference), "{listed:?}");
        // A second pull finds every blob in place.
        berth_image(store.path(), &["pull", &reference]).ok();
        assert_eq!(fs::read_dir(store.path().join("tmp")).unwrap().count(), 0);
    }
}

#[test]
fn an_index_with_two_platforms_yields_the_one_asked_for() {
    let registry = Registry::start(Auth::Anonymous);
    let reference = format!("{}/multi/arch:v1", registry.addr);
    let source = temp_dir();
    let (amd, arm) = (small_image("amd64", false), small_image("arm64", false));
    let index_digest = store_index(source.path(), &reference, &[&amd, &arm]);
    assert_eq!(
        berth_image(source.path(), &["push", &reference])
            .ok()
            .split_whitespace()
            .last(),
        Some(index_digest.as_str())
    );

    let store = temp_dir();
    berth_image(
        store.path(),
        &["pull", "--platform", "linux/arm64", &reference],
    )
    .ok();
    let info = inspect(store.path(), &reference);
    assert_eq!(info["config"]["architecture"], "arm64");
    assert_eq!(info["config"]["config"]["Env"][0], "ARCH=arm64");
    berth_image(store.path(), &["pull", &reference]).ok();
    assert_eq!(
        inspect(store.path(), &reference)["config"]["architecture"],
        "amd64"
    );
    let err = berth_image(
        store.path(),
        &["pull", "--platform", "linux/s390x", &reference],
    );
    assert!(
        err.failed()
            .contains("no image for linux/s390x in the index (it has: linux/amd64, linux/arm64)"),
        "{err:?}"
    );
}

#[test]
fn a_corrupted_blob_is_refused_and_not_stored() {
    let registry = Registry::start(Auth::Anonymous);
    let reference = format!("{}/corrupt/image:v1", registry.addr);
    let image = small_image("amd64", false);
    push(&image, &reference);
    let layer = sha256(&image.layers[0].bytes);
    let data = registry.blob_data(&layer);
    let mut bytes = fs::read(&data).unwrap();
    bytes[10] ^= 0xff;
    fs::write(&data, bytes).unwrap();

    let store = temp_dir();
    let out = berth_image(store.path(), &["pull", &reference]);
    let err = out.failed();
    assert!(err.contains(&layer) && err.contains("refused"), "{err}");
    assert!(!blob(store.path(), &layer).exists());
    assert!(
        berth_image(store.path(), &["images"]).ok().lines().count() == 1,
        "the image is not named"
    );
}

#[test]
fn a_registry_dying_mid_pull_gives_a_clear_error_and_the_next_pull_resumes() {
    let registry = Registry::start(Auth::Anonymous);
    let proxy_addr = format!("127.0.0.1:{}", free_port());
    let reference = format!("{proxy_addr}/dying/image:v1");
    // 4 MB that gzip cannot shrink, so the cut lands inside the layer.
    let mut state = 0x9e3779b97f4a7c15u64;
    let noise: Vec<u8> = (0..4 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let image = TestImage::new("amd64", json!({"Cmd": ["/bin/true"]}))
        .layer(Layer::new().file("noise", &noise), Compression::Gzip);
    let layer = sha256(&image.layers[0].bytes);
    let source = temp_dir();
    image.store(source.path(), &format!("{}/dying/image:v1", registry.addr));
    berth_image(
        source.path(),
        &["push", &format!("{}/dying/image:v1", registry.addr)],
    )
    .ok();

    let store = temp_dir();
    // The store already holds every blob but the layer (as after a pull of a sibling image):
    // fetched beside the layer, the config could be the transfer the dead registry refuses
    // first, and the pull would name it instead.
    let blobs = store.path().join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    for entry in fs::read_dir(source.path().join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        if format!("sha256:{}", entry.file_name().to_string_lossy()) != layer {
            fs::copy(entry.path(), blobs.join(entry.file_name())).unwrap();
        }
    }
    let proxy = Proxy::start(&proxy_addr, &registry.addr, 1 << 20);
    let out = berth_image(store.path(), &["pull", &reference]);
    assert!(proxy.is_dead());
    let err = out.failed();
    assert!(
        err.contains(&format!("giving up on blob {layer}")) && err.contains("resumes"),
        "{err}"
    );
    let partial = store
        .path()
        .join("tmp")
        .join(format!("{}.partial", layer.trim_start_matches("sha256:")));
    let kept = fs::metadata(&partial).unwrap().len();
    assert!(kept > 0, "some bytes were kept");
    drop(proxy);

    let revived = Proxy::start(&proxy_addr, &registry.addr, u64::MAX);
    berth_image(store.path(), &["pull", &reference]).ok();
    assert!(
        revived
            .ranges
            .lock()
            .unwrap()
            .contains(&format!("bytes={kept}-")),
        "{:?}",
        revived.ranges.lock().unwrap()
    );
    assert_eq!(
        fs::read(blob(store.path(), &layer)).unwrap(),
        image.layers[0].bytes
    );
    assert!(!partial.exists());
}

#[test]
fn basic_auth_login_pull_and_logout() {
    let registry = Registry::start(Auth::Basic("alice", "wonderland"));
    let authfile = temp_dir();
    let authfile = authfile.path().join("auth.json");
    let env = [("REGISTRY_AUTH_FILE", authfile.as_path())];
    let store = temp_dir();
    let reference = format!("{}/private/image:v1", registry.addr);

    let wrong = berth_image_env(
        store.path(),
        &["login", "-u", "alice", "-p", "guess", &registry.addr],
        &env,
    );
    assert!(
        wrong.failed().contains("refused the credentials"),
        "{wrong:?}"
    );
    berth_image_env(
        store.path(),
        &["login", "-u", "alice", "-p", "wonderland", &registry.addr],
        &env,
    )
    .ok();
    let saved: Value = serde_json::from_slice(&fs::read(&authfile).unwrap()).unwrap();
    assert!(saved["auths"][&registry.addr]["auth"].is_string());

    let image = small_image("amd64", false);
    let source = temp_dir();
    let digest = image.store(source.path(), &reference);
    berth_image_env(source.path(), &["push", &reference], &env).ok();
    assert!(berth_image_env(store.path(), &["pull", &reference], &env)
        .ok()
        .contains(&digest));

    berth_image_env(store.path(), &["logout", &registry.addr], &env).ok();
    let anonymous = berth_image_env(temp_dir().path(), &["pull", &reference], &env);
    assert!(anonymous.failed().contains(&reference), "{anonymous:?}");
}

#[test]
fn bearer_token_auth_through_the_challenge() {
    let tokens_dir = temp_dir();
    let tokens = TokenServer::start(tokens_dir.path(), "alice", "wonderland");
    let registry = Registry::start(Auth::Token {
        realm: tokens.realm.clone(),
        cert: tokens.cert.clone(),
    });
    let authfile = temp_dir();
    let authfile = authfile.path().join("auth.json");
    let env = [("REGISTRY_AUTH_FILE", authfile.as_path())];
    let reference = format!("{}/tokens/image:v1", registry.addr);

    let wrong = berth_image_env(
        temp_dir().path(),
        &["login", "-u", "alice", "-p", "guess", &registry.addr],
        &env,
    );
    wrong.failed();
    berth_image_env(
        temp_dir().path(),
        &["login", "-u", "alice", "-p", "wonderland", &registry.addr],
        &env,
    )
    .ok();
    let image = small_image("amd64", false);
    let source = temp_dir();
    let digest = image.store(source.path(), &reference);
    berth_image_env(source.path(), &["push", &reference], &env).ok();
    let store = temp_dir();
    assert!(berth_image_env(store.path(), &["pull", &reference], &env)
        .ok()
        .contains(&digest));
    assert!(tokens.issued.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}
