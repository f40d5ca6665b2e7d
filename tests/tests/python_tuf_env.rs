//! The python-tuf peer is installed, and its harness scripts agree with each other:
//! every repository `make_repo.py` generates verifies with `verify_repo.py` (python-tuf's
//! own client), and a tampered one does not. Later interop tests rely on both scripts.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use notary_rs_tests::{python_script, run_python};

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn venv_python_imports_python_tuf_7_0_1() {
    let out = run_python(&[
        OsStr::new("-c"),
        OsStr::new("import tuf, securesystemslib; print(tuf.__version__)"),
    ]);
    assert!(
        out.status.success(),
        "import tuf failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_of(&out).trim(), "7.0.1");
}

fn verify(dir: &Path) -> std::process::Output {
    run_python(&[python_script("verify_repo.py").as_os_str(), dir.as_os_str()])
}

#[test]
fn python_tuf_verifies_every_generated_scenario_and_rejects_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_python(&[
        python_script("make_repo.py").as_os_str(),
        tmp.path().as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "make_repo.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("index.json")).unwrap()).unwrap();
    let scenarios = index["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 9, "too few scenarios: {index}");
    for s in scenarios {
        let dir = tmp.path().join(s["dir"].as_str().unwrap());
        let out = verify(&dir);
        assert!(
            out.status.success(),
            "verify_repo.py rejected {}:\n{}\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr),
            stdout_of(&out)
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["ok"], true);
        let expected: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("expected.json")).unwrap()).unwrap();
        assert_eq!(
            summary["results"]["targets"].as_object().unwrap().len(),
            expected["targets"].as_object().unwrap().len()
        );
    }

    // One flipped byte in signed targets metadata must make the verifier fail.
    let dir = tmp.path().join("ed25519-basic");
    let targets = dir.join("metadata").join("2.targets.json");
    let text = fs::read_to_string(&targets).unwrap();
    assert!(text.contains("hello.txt"));
    fs::write(&targets, text.replacen("hello.txt", "hellO.txt", 1)).unwrap();
    let out = verify(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout_of(&out));
}
