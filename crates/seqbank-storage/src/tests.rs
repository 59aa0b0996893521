#![allow(clippy::unwrap_used)]

use super::*;

/// Stores to run each test against: a temporary folder always, and the S3-compatible server
/// named by `SEQBANK_TEST_S3_ENDPOINT` (bucket `SEQBANK_TEST_S3_BUCKET`, default `seqbank-test`).
async fn stores() -> Vec<(Storage, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let local = Storage::open(&StorageConfig {
        url: dir.path().join("store").display().to_string(),
        ..StorageConfig::default()
    })
    .await
    .unwrap();
    let mut out = vec![(local, Some(dir))];
    match std::env::var("SEQBANK_TEST_S3_ENDPOINT") {
        Ok(endpoint) => {
            let bucket =
                std::env::var("SEQBANK_TEST_S3_BUCKET").unwrap_or_else(|_| "seqbank-test".into());
            let prefix = format!("t{}", unique());
            let s3 = Storage::open(&StorageConfig {
                url: format!("s3://{bucket}/{prefix}"),
                endpoint: Some(endpoint),
                access_key_id: std::env::var("SEQBANK_TEST_S3_KEY").ok(),
                secret_access_key: std::env::var("SEQBANK_TEST_S3_SECRET").ok(),
                ..StorageConfig::default()
            })
            .await
            .unwrap();
            out.push((s3, None));
        }
        Err(_) => eprintln!("skipping the S3 half: SEQBANK_TEST_S3_ENDPOINT is not set"),
    }
    out
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn data(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn read_all(storage: &Storage, key: &str, range: Option<Range<u64>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stream = storage.get(key, range).await.unwrap();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[tokio::test]
async fn an_upload_resumes_across_requests_and_commits_whole() {
    for (storage, _dir) in stores().await {
        let body = data(21 * (1 << 20) + 12_345);
        let id = format!("u{}", unique());
        let mut state = storage.begin_upload(&id, body.len() as u64).await.unwrap();
        // Requests of odd sizes; the state stored after each is all the next one gets.
        let mut at = 0;
        for size in [1_000_000, 7_654_321, 3, 9_000_000] {
            let mut appender = storage.append(&state).await.unwrap();
            assert_eq!(appender.received(), at as u64);
            appender.write(&body[at..at + size]).await.unwrap();
            state = appender.finish().await.unwrap();
            at += size;
            assert_eq!(state.offset, at as u64, "{}", storage.describe());
        }
        // A request that dies after sending bytes it never finished: only the durable state
        // counts, and the next request starts from it.
        {
            let mut appender = storage.append(&state).await.unwrap();
            appender.write(&body[at..at + 5000]).await.unwrap();
            drop(appender);
        }
        let mut appender = storage.append(&state).await.unwrap();
        assert_eq!(appender.received(), at as u64);
        for chunk in body[at..].chunks(1 << 20) {
            appender.write(chunk).await.unwrap();
        }
        assert!(
            appender.write(b"x").await.is_err(),
            "past the declared length"
        );
        let state = appender.finish().await.unwrap();
        assert_eq!(state.offset, body.len() as u64);

        let staged = staging_key(&id);
        assert_eq!(read_all(&storage, &staged, None).await, body);
        let archived = run_file_key("SBR000123", "reads_1.fastq.gz");
        assert_eq!(archived, "runs/SBR000/SBR000123/reads_1.fastq.gz");
        let meta = storage.commit(&staged, &archived).await.unwrap();
        assert_eq!(meta.size, body.len() as u64);
        assert!(storage.head(&staged).await.unwrap().is_none());
        // Committing again (a retried job) finds it done; another object is never overwritten.
        storage.commit(&staged, &archived).await.unwrap();
        storage
            .put(&staged, Bytes::from_static(b"other"))
            .await
            .unwrap();
        assert!(matches!(
            storage.commit(&staged, &archived).await,
            Err(Error::AlreadyExists(_))
        ));
        assert_eq!(
            read_all(&storage, &archived, Some(10..20)).await,
            &body[10..20]
        );
        let mut reader = storage.reader(&archived).await.unwrap();
        let read = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            out
        })
        .await
        .unwrap();
        assert_eq!(read, body);
        let listed = storage.list("runs").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].key, archived);
        assert_eq!(listed[0].size, body.len() as u64);
    }
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing() {
    for (storage, _dir) in stores().await {
        let id = format!("a{}", unique());
        let state = storage.begin_upload(&id, 100).await.unwrap();
        let mut appender = storage.append(&state).await.unwrap();
        appender.write(&[7; 40]).await.unwrap();
        let state = appender.finish().await.unwrap();
        storage.abort_upload(&state).await.unwrap();
        assert!(storage.head(&staging_key(&id)).await.unwrap().is_none());
        assert!(
            storage
                .list("staging/uploads")
                .await
                .unwrap()
                .iter()
                .all(|m| !m.key.contains(&id))
        );
    }
}

#[tokio::test]
async fn an_unreachable_store_is_a_clear_error() {
    let storage = Storage::open(&StorageConfig {
        url: "s3://nowhere/x".into(),
        endpoint: Some("http://127.0.0.1:9".into()),
        ..StorageConfig::default()
    })
    .await
    .unwrap();
    let err = storage.begin_upload("x1", 10).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Store { .. }), "{text}");
    assert!(
        text.contains("s3://nowhere/x at http://127.0.0.1:9"),
        "{text}"
    );
}

#[test]
fn file_names_that_would_escape_are_refused() {
    for bad in ["", "..", "../x", "a/b", "a\\b", ".hidden", "x\ny", "c:x"] {
        assert!(!is_safe_file_name(bad), "{bad:?}");
    }
    for good in ["A1_R1.fastq.gz", "reads 1.bam", "x.cram"] {
        assert!(is_safe_file_name(good), "{good:?}");
    }
}
