//! `seqbank fsck`: checks that the metastore and the object store agree.

use std::{
    collections::HashSet,
    process::ExitCode,
    sync::{Arc, atomic::AtomicU64},
};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use seqbank_metastore::UploadState;

use crate::config::{Config, Sources};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    sources: Sources,
    /// Re-read every file and compare its MD5 and SHA-256 with the recorded ones.
    #[arg(long)]
    deep: bool,
    /// Delete orphans in the staging area (never anything in the archive tree).
    #[arg(long)]
    repair: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.sources)?;
    super::serve::runtime()?.block_on(check(&config, args.deep, args.repair))
}

async fn check(config: &Config, deep: bool, repair: bool) -> anyhow::Result<ExitCode> {
    let service = super::serve::open(config).await?;
    let store = service.store();
    let storage = service.storage();
    let mut problems = 0usize;
    let mut known = HashSet::new();
    let mut files = Vec::new();
    let mut after = 0;
    loop {
        let page = store.files(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        files.extend(page);
    }
    let total: u64 = files.iter().map(|f| f.size as u64).sum();
    let bar = if deep {
        ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "re-hashing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        )
    } else {
        ProgressBar::new(files.len() as u64)
    };
    for file in &files {
        known.insert(file.storage_key.clone());
        let head = storage
            .head(&file.storage_key)
            .await
            .with_context(|| format!("object store {}", storage.describe()))?;
        let Some(meta) = head else {
            bar.suspend(|| {
                println!(
                    "missing\t{}\t(file {} of run {})",
                    file.storage_key, file.name, file.run_id
                )
            });
            problems += 1;
            continue;
        };
        if meta.size != file.size as u64 {
            bar.suspend(|| {
                println!(
                    "size\t{}\trecorded {} bytes, stored {}",
                    file.storage_key, file.size, meta.size
                )
            });
            problems += 1;
            continue;
        }
        if deep {
            let progress = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
            let (_, md5, sha256) = service.hash_object(&file.storage_key, progress).await?;
            bar.inc(file.size as u64);
            if md5 != file.md5 || sha256 != file.sha256 {
                bar.suspend(|| {
                    println!(
                        "checksum\t{}\trecorded md5 {} sha256 {}, stored md5 {md5} sha256 {sha256}",
                        file.storage_key, file.md5, file.sha256
                    )
                });
                problems += 1;
            }
        } else {
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    // Staging objects belong to live uploads; anything else there is an orphan.
    let live: HashSet<String> = store
        .uploads(
            None,
            None,
            &[
                UploadState::Receiving,
                UploadState::Received,
                UploadState::Valid,
                UploadState::Invalid,
            ],
        )
        .await?
        .into_iter()
        .map(|u| seqbank_storage::staging_key(&u.id))
        .collect();
    let mut orphans = 0;
    for meta in storage.list("staging/uploads").await? {
        if !live.contains(&meta.key) && !known.contains(&meta.key) {
            orphans += 1;
            if repair {
                storage.delete(&meta.key).await?;
                println!("removed\t{}\t{} bytes", meta.key, meta.size);
            } else {
                println!(
                    "orphan\t{}\t{} bytes (staging; --repair removes it)",
                    meta.key, meta.size
                );
                problems += 1;
            }
        }
    }
    for meta in storage.list("runs").await? {
        if !known.contains(&meta.key) {
            println!(
                "orphan\t{}\t{} bytes (archive tree; left alone)",
                meta.key, meta.size
            );
            problems += 1;
        }
    }
    eprintln!(
        "seqbank fsck: {} files checked{}, {problems} problems, {orphans} staging orphans{}",
        files.len(),
        if deep { " and re-hashed" } else { "" },
        if repair { " removed" } else { "" }
    );
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
