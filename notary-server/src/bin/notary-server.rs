//! `notary-server`: the Notary 0.7 trust server. See `notary-server --help`.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use notary_server::config::{self, PassphraseSource, ServerConfig};
use notary_server::storage::SqliteStore;
use notary_server::vault::Vault;
use notary_server::{app, AppState};
use zeroize::Zeroizing;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |k: &str| std::env::var(k).ok();
    let cfg = match config::parse(&args, &env) {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!(
                "notary-server {}\n\n{}",
                env!("CARGO_PKG_VERSION"),
                config::USAGE
            );
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("notary-server: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "notary_server={0},tower_http={0}",
        cfg.log_level
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("notary-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notary-server: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Reads or creates the key-encryption passphrase; never logged.
fn passphrase(source: &PassphraseSource) -> Result<Zeroizing<String>, BoxError> {
    let read_first_line = |p: &Path| -> Result<Zeroizing<String>, BoxError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        );
        Ok(Zeroizing::new(
            text.lines().next().unwrap_or_default().trim().to_owned(),
        ))
    };
    match source {
        PassphraseSource::Env => Ok(Zeroizing::new(std::env::var(
            "NOTARY_SERVER_KEY_PASSPHRASE",
        )?)),
        PassphraseSource::File(p) => read_first_line(p),
        PassphraseSource::Generated(p) => {
            if p.exists() {
                return read_first_line(p);
            }
            let mut bytes = Zeroizing::new([0u8; 32]);
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, bytes.as_mut());
            let pass = Zeroizing::new(hex::encode(bytes.as_ref()));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(p)
                .map_err(|e| format!("{}: {e}", p.display()))?;
            f.write_all(pass.as_bytes())?;
            f.sync_all()?;
            tracing::warn!(
                file = %p.display(),
                "generated a key-encryption passphrase; server keys are only as safe as this file \
                 (set NOTARY_SERVER_KEY_PASSPHRASE or --key-passphrase-file in production)"
            );
            Ok(pass)
        }
    }
}

async fn run(cfg: ServerConfig) -> Result<(), BoxError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&cfg.data_dir)
        .map_err(|e| format!("data directory {}: {e}", cfg.data_dir.display()))?;
    let pass = passphrase(&cfg.passphrase)?;
    let store = SqliteStore::open(&cfg.db_path).await?;
    let vault = Vault::open(&store, &pass).await?;
    drop(pass);
    let dialects = notary_server::dialects::GunDialects::new(cfg.tuf_guns.clone())?;
    let router = app(AppState::new(store, vault).with_dialects(dialects));

    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        shutdown.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    tracing::info!(
        "notary-server listening on {scheme}://{} (database {})",
        cfg.listen,
        cfg.db_path.display()
    );
    eprintln!("notary-server listening on {scheme}://{}", cfg.listen);
    match &cfg.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            // A TLS configuration that does not load is fatal: never fall back to plain HTTP.
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| format!("TLS certificate/key: {e}"))?;
            let mut server = axum_server::bind_rustls(cfg.listen, tls).handle(handle);
            limit_connections(server.http_builder());
            server.serve(router.into_make_service()).await?;
        }
        None => {
            let mut server = axum_server::bind(cfg.listen).handle(handle);
            limit_connections(server.http_builder());
            server.serve(router.into_make_service()).await?;
        }
    }
    Ok(())
}

/// Per-connection limits: a client must send its request headers within 10 s (slowloris),
/// with at most 64 headers.
fn limit_connections(
    b: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
) {
    b.http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_headers(64);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
