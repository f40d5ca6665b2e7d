//! `cargo bench -p tuf-core --bench core`: build+sign, parse+verify and canonicalize
//! repositories of 1 000, 10 000 and 100 000 targets; prints a markdown table.
//! When the python-tuf venv exists (`.venv/bin/python` or `$NOTARY_RS_PYTHON`), python-tuf's
//! parse+verify of the same 100k targets file is timed in the same run for comparison.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use tuf_core::crypto::{Key, Signer, SoftwareSigner};
use tuf_core::editor::{notary_root_key, InitialKeys, RepoEditor, SignPlan, SignedFile};
use tuf_core::envelope::Signed;
use tuf_core::json::{self, JsonLimits};
use tuf_core::name::Gun;
use tuf_core::role::{TargetEntry, Targets, TopRole};
use tuf_core::trusted_set::{RepoConfig, TrustedSet};
use tuf_core::Dialect;

struct Row {
    op: String,
    n: usize,
    runs_ms: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Vec<f64>, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        last = Some(out);
    }
    (times, last.unwrap())
}

/// N synthetic ~100-byte files named `file-000001.txt`, ...
fn contents(n: usize) -> Vec<(String, Vec<u8>)> {
    (1..=n)
        .map(|i| {
            let path = format!("file-{i:06}.txt");
            let mut data = format!("synthetic target {i:06} ").into_bytes();
            data.resize(100, b'a' + u8::try_from(i % 26).unwrap());
            (path, data)
        })
        .collect()
}

struct Keys {
    root: SoftwareSigner,
    targets: SoftwareSigner,
    snapshot: SoftwareSigner,
    timestamp: SoftwareSigner,
}

impl Keys {
    fn new() -> Self {
        Self {
            root: SoftwareSigner::generate_ed25519(),
            targets: SoftwareSigner::generate_ed25519(),
            snapshot: SoftwareSigner::generate_ed25519(),
            timestamp: SoftwareSigner::generate_ed25519(),
        }
    }
    fn signers(&self) -> [&dyn Signer; 4] {
        [&self.root, &self.targets, &self.snapshot, &self.timestamp]
    }
    fn initial(&self, dialect: Dialect, root: Key) -> InitialKeys {
        let key = |s: &SoftwareSigner| Key::from_public_key(dialect, s.public_key().clone());
        InitialKeys {
            root: vec![root],
            targets: vec![key(&self.targets)],
            snapshot: vec![key(&self.snapshot)],
            timestamp: vec![key(&self.timestamp)],
        }
    }
}

/// A target entry as the reference tools write it: python-tuf lists sha256 only (its 100k
/// file is about 15 MB), Go Notary lists sha256 and sha512.
fn entry(dialect: Dialect, data: &[u8]) -> TargetEntry {
    let mut e = TargetEntry::for_data(data);
    if dialect == Dialect::TufSpec {
        e.hashes.remove("sha512");
    }
    e
}

fn build(
    dialect: Dialect,
    keys: &Keys,
    root_key: &Key,
    extra_signer: Option<&dyn Signer>,
    files: &[(String, Vec<u8>)],
    now: DateTime<Utc>,
) -> BTreeMap<String, SignedFile> {
    let mut signers = keys.signers().to_vec();
    signers.extend(extra_signer);
    let mut ed = RepoEditor::create(dialect, keys.initial(dialect, root_key.clone()), now);
    ed.add_targets(
        "targets",
        files.iter().map(|(p, d)| (p.clone(), entry(dialect, d))),
    )
    .unwrap();
    ed.sign(&signers, now, SignPlan::default())
        .unwrap()
        .into_iter()
        .map(|f| (f.role.clone(), f))
        .collect()
}

fn trusted_set_verify(
    config: &RepoConfig,
    repo: &BTreeMap<String, SignedFile>,
    now: DateTime<Utc>,
) {
    let mut set = TrustedSet::new(config.clone(), &repo["root"].bytes, now).unwrap();
    set.update_timestamp(&repo["timestamp"].bytes).unwrap();
    set.update_snapshot(&repo["snapshot"].bytes).unwrap();
    set.update_targets(&repo["targets"].bytes).unwrap();
    assert!(set.targets().is_some());
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("NOTARY_RS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"));
    p.exists().then_some(p)
}

fn main() {
    let now = Utc::now();
    let limits = JsonLimits {
        max_bytes: usize::MAX,
        max_depth: 64,
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut sizes: Vec<(usize, usize)> = Vec::new();
    let mut big: Option<(Vec<u8>, Vec<u8>)> = None;
    for n in [1_000usize, 10_000, 100_000] {
        let runs = 5;
        let files = contents(n);
        let keys = Keys::new();
        let root_key = Key::from_public_key(Dialect::TufSpec, keys.root.public_key().clone());
        let (t, repo) = time(runs, || {
            build(Dialect::TufSpec, &keys, &root_key, None, &files, now)
        });
        rows.push(Row {
            op: "build+sign repository (TUF)".into(),
            n,
            runs_ms: t,
        });
        let targets = repo["targets"].bytes.clone();
        sizes.push((n, targets.len()));

        let config = RepoConfig::tuf();
        let (t, ()) = time(runs, || trusted_set_verify(&config, &repo, now));
        rows.push(Row {
            op: "parse+verify via TrustedSet (root→ts→snap→targets)".into(),
            n,
            runs_ms: t,
        });

        let root = Signed::<tuf_core::role::Root>::parse(
            Dialect::TufSpec,
            "root",
            &repo["root"].bytes,
            &limits,
        )
        .unwrap()
        .peek_untrusted()
        .clone();
        let (t, ()) = time(runs, || {
            let s =
                Signed::<Targets>::parse(Dialect::TufSpec, "targets", &targets, &limits).unwrap();
            let v = s.verify(&root.keys, root.role(TopRole::Targets)).unwrap();
            assert_eq!(v.targets.len(), n);
        });
        rows.push(Row {
            op: "Signed::<Targets>::parse + verify".into(),
            n,
            runs_ms: t,
        });

        let (t, canonical) = time(runs, || {
            let v = json::parse_with_limits(&targets, &limits).unwrap();
            json::to_canonical(&v)
        });
        assert!(!canonical.is_empty());
        rows.push(Row {
            op: "json::parse + to_canonical (targets)".into(),
            n,
            runs_ms: t,
        });

        if n == 100_000 {
            big = Some((repo["root"].bytes.clone(), targets));
            // Notary 0.7 dialect: root key is a self-signed certificate naming the GUN.
            let gun = Gun::parse("example.com/bench").unwrap();
            let p256 = SoftwareSigner::generate_p256();
            let root_key = notary_root_key(&p256, &gun, now, Duration::days(3650)).unwrap();
            let repo = build(Dialect::Notary, &keys, &root_key, Some(&p256), &files, now);
            let config = RepoConfig::notary(gun);
            let (t, ()) = time(runs, || trusted_set_verify(&config, &repo, now));
            rows.push(Row {
                op: "parse+verify via TrustedSet (Notary dialect)".into(),
                n,
                runs_ms: t,
            });
            sizes.push((n, repo["targets"].bytes.len()));
        }
    }

    let python_note = match (python(), &big) {
        (Some(py), Some((root, targets))) => {
            let dir = std::env::temp_dir().join(format!("tuf-core-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let (rp, tp) = (dir.join("root.json"), dir.join("targets.json"));
            std::fs::write(&rp, root).unwrap();
            std::fs::write(&tp, targets).unwrap();
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/bench_verify.py");
            let out = Command::new(&py).arg(&script).arg(&rp).arg(&tp).arg("3").output();
            let _ = std::fs::remove_dir_all(&dir);
            match out {
                Ok(o) if o.status.success() => {
                    let text = String::from_utf8_lossy(&o.stdout);
                    let runs: Vec<f64> = text
                        .split_once("[")
                        .and_then(|(_, r)| r.split_once(']'))
                        .map(|(r, _)| r.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                        .unwrap_or_default();
                    if runs.is_empty() {
                        format!("python-tuf comparison: unreadable output {text}")
                    } else {
                        rows.push(Row { op: "python-tuf Metadata.from_bytes + verify_delegate".into(), n: 100_000, runs_ms: runs });
                        String::new()
                    }
                }
                Ok(o) => format!("python-tuf comparison failed: {}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => format!("python-tuf comparison not measured: cannot run {}: {e}", py.display()),
            }
        }
        _ => "python-tuf comparison not measured: no venv (run scripts/setup-python.sh or set NOTARY_RS_PYTHON)".into(),
    };

    println!("| operation | N | median ms | min | max | runs |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        let min = r.runs_ms.iter().copied().fold(f64::INFINITY, f64::min);
        let max = r.runs_ms.iter().copied().fold(0.0, f64::max);
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {} |",
            r.op,
            r.n,
            median(&r.runs_ms),
            min,
            max,
            r.runs_ms.len()
        );
    }
    println!();
    for (i, (n, size)) in sizes.iter().enumerate() {
        let what = if i == sizes.len() - 1 {
            "Notary"
        } else {
            "TUF"
        };
        println!("targets file, {n} targets ({what}): {size} bytes");
    }
    if !python_note.is_empty() {
        println!("{python_note}");
    }
}
