//! Docker-registry token auth end to end (reference §3): our `notary` CLI, and Go's
//! `notary` 0.7 for comparison, against the real Go notary-server configured with
//! `"auth": {"type": "token"}` and a test token issuer (`notary_rs_tests::token_issuer`).
//! Outputs are compared with Go's client on the same server (fixture `auth-client.txt`);
//! the issuer's log shows which scopes were asked for and when credentials were sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use notary_rs_tests::notary_cli::{
    our_notary_bin, CmdOutput, GoNotaryServer, NotaryClient, PASSPHRASE_ENV,
};
use notary_rs_tests::token_issuer::{TokenIssuer, TokenRequest};

const ISSUER: &str = "lab-token-issuer";
const SERVICE: &str = "notary-server";
/// base64("alice:secret")
const AUTH: &str = "YWxpY2U6c2VjcmV0";
/// base64("alice:wrong")
const BAD_AUTH: &str = "YWxpY2U6d3Jvbmc=";
const UNAUTHORIZED: &str =
    "* fatal: you are not authorized to perform this operation: server returned 401.";

struct Lab {
    issuer: TokenIssuer,
    server: GoNotaryServer,
}

fn lab() -> Lab {
    let issuer = TokenIssuer::start(ISSUER, SERVICE, "alice", "secret").unwrap();
    let server =
        GoNotaryServer::start_with_auth(&issuer.realm(), SERVICE, ISSUER, issuer.root_cert_path())
            .unwrap();
    Lab { issuer, server }
}

fn ours(url: &str) -> NotaryClient {
    let mut c = NotaryClient::new(url);
    c.set_bin(our_notary_bin());
    c
}

fn host(url: &str) -> &str {
    url.trim_start_matches("http://")
}

/// The `* fatal:` line of a failed command (Go prints it on stdout or stderr).
fn fatal_line(out: &CmdOutput) -> String {
    out.stdout
        .lines()
        .chain(out.stderr.lines())
        .find(|l| l.starts_with("* fatal:"))
        .unwrap_or_else(|| panic!("no fatal line:\n{out}"))
        .to_owned()
}

/// Runs `args` with `env`, returning the output and the token requests it caused.
fn run(
    lab: &Lab,
    c: &NotaryClient,
    args: &[&str],
    env: &[(&str, &str)],
) -> (CmdOutput, Vec<TokenRequest>) {
    lab.issuer.clear_requests();
    let out = c.run_env(args, None, env);
    (out, lab.issuer.requests())
}

/// Secrets that must never be printed by our CLI.
fn assert_no_secrets(out: &CmdOutput) {
    let mut secrets = vec![AUTH, BAD_AUTH, "secret", "alice:", "wrong"];
    secrets.extend(PASSPHRASE_ENV.iter().map(|(_, v)| *v));
    for s in secrets {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "{s:?} leaked:\n{out}"
        );
    }
    assert!(
        !out.stdout.contains("eyJ") && !out.stderr.contains("eyJ"),
        "token leaked:\n{out}"
    );
}

fn scopes(reqs: &[TokenRequest]) -> Vec<String> {
    let mut s: Vec<String> = reqs.iter().flat_map(|r| r.scopes.clone()).collect();
    s.dedup();
    s
}

/// No token request carried an `Authorization` header or an `account`.
fn assert_anonymous(reqs: &[TokenRequest]) {
    for r in reqs {
        assert!(
            r.authorization.is_none() && r.account.is_none(),
            "credentials sent without NOTARY_AUTH: {r:?}"
        );
        assert_eq!(r.service.as_deref(), Some(SERVICE), "{r:?}");
    }
}

/// Every token request that carried credentials is Basic for `alice` with `account=alice`.
fn assert_creds_are_alices(reqs: &[TokenRequest]) {
    for r in reqs {
        if r.authorization.is_some() {
            assert!(
                r.authorization.as_deref().unwrap().starts_with("Basic "),
                "{r:?}"
            );
            assert_eq!(r.basic_user.as_deref(), Some("alice"), "{r:?}");
            assert_eq!(r.account.as_deref(), Some("alice"), "{r:?}");
        }
        assert_eq!(r.service.as_deref(), Some(SERVICE), "{r:?}");
    }
}

#[test]
fn token_auth_against_go_server() {
    let lab = lab();
    let url = lab.server.url().to_owned();
    let gun = "example.com/authapp";
    let go_gun = "example.com/authapp-go";
    let c = ours(&url);
    let go = NotaryClient::new(&url);

    // The health endpoint is not protected; the API is.
    let port: u16 = host(&url).rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(
        notary_rs_tests::notary_cli::http_get_status(port, "/_notary_server/health").unwrap(),
        200
    );
    assert_eq!(
        notary_rs_tests::notary_cli::http_get_status(
            port,
            &format!("/v2/{gun}/_trust/tuf/root.json")
        )
        .unwrap(),
        401
    );

    // 1. list of an unknown GUN, anonymously: "does not have trust data", as Go.
    let (out, reqs) = run(&lab, &c, &["list", gun], &[]);
    assert_eq!(out.status, 1, "{out}");
    assert_no_secrets(&out);
    let (go_out, go_reqs) = run(&lab, &go, &["list", gun], &[]);
    assert_eq!(go_out.status, 1, "{go_out}");
    assert_eq!(
        fatal_line(&out),
        format!("* fatal: {} does not have trust data for {gun}", host(&url))
    );
    assert_eq!(fatal_line(&out), fatal_line(&go_out));
    assert_eq!(
        scopes(&reqs),
        vec![format!("repository:{gun}:pull")],
        "{reqs:?}"
    );
    assert_eq!(scopes(&go_reqs), scopes(&reqs));
    assert_anonymous(&reqs);
    assert!(reqs
        .iter()
        .all(|r| r.granted == vec![vec!["pull".to_owned()]]));

    // 2. init -p without NOTARY_AUTH: a pull-only token, 401, nothing published.
    let (out, reqs) = run(&lab, &c, &["init", gun, "-p"], &[]);
    assert_eq!(out.status, 1, "{out}");
    assert_no_secrets(&out);
    assert_eq!(fatal_line(&out), UNAUTHORIZED, "{out}");
    assert_anonymous(&reqs);
    assert!(
        scopes(&reqs).contains(&format!("repository:{gun}:push,pull")),
        "{reqs:?}"
    );
    let (go_out, go_reqs) = run(&lab, &go, &["init", go_gun, "-p"], &[]);
    assert_eq!(go_out.status, 1, "{go_out}");
    assert_eq!(fatal_line(&go_out), UNAUTHORIZED, "{go_out}");
    assert_anonymous(&go_reqs);
    // Go prompts `Enter username: ` on stdout (and reads EOF); ours does not prompt.
    assert_eq!(
        out.stdout,
        go_out.stdout.replacen("Enter username: ", "", 1),
        "ours:\n{out}\nGo:\n{go_out}"
    );
    for g in [gun, go_gun] {
        let out = go.run(&["list", g], None);
        assert_eq!(
            fatal_line(&out),
            format!("* fatal: {} does not have trust data for {g}", host(&url)),
            "{out}"
        );
    }

    // 3. publish (the staged init) and add -p with credentials.
    let (out, reqs) = run(&lab, &c, &["publish", gun], &[("NOTARY_AUTH", AUTH)]);
    assert_eq!(out.status, 0, "{out}");
    assert_no_secrets(&out);
    assert_eq!(
        out.stdout,
        format!("Pushing changes to {gun}\nSuccessfully published changes for repository {gun}\n")
    );
    assert_creds_are_alices(&reqs);
    let push = format!("repository:{gun}:push,pull");
    assert!(
        reqs.iter()
            .any(|r| r.scopes == vec![push.clone()] && r.authenticated),
        "no push,pull token with credentials: {reqs:?}"
    );
    let (go_out, _) = run(&lab, &go, &["publish", go_gun], &[("NOTARY_AUTH", AUTH)]);
    assert_eq!(go_out.status, 0, "{go_out}");

    let target = c.scratch().join("v1.txt");
    std::fs::write(&target, b"hello token auth\n").unwrap();
    let target = target.display().to_string();
    let (out, reqs) = run(
        &lab,
        &c,
        &["add", gun, "v1", &target, "-p"],
        &[("NOTARY_AUTH", AUTH)],
    );
    assert_eq!(out.status, 0, "{out}");
    assert_no_secrets(&out);
    assert!(
        out.stdout.ends_with(&format!(
            "Successfully published changes for repository {gun}\n"
        )),
        "{out}"
    );
    assert_creds_are_alices(&reqs);
    assert!(reqs
        .iter()
        .any(|r| r.scopes == vec![push.clone()] && r.authenticated));

    // A second repository, initialised and published in one go with credentials.
    // Not a prefix-extension of `gun`: Go's memory storage deletes every GUN that starts
    // with the deleted one (`strings.HasPrefix`), which would take this one along.
    let gun2 = "example.com/second";
    let (out, reqs) = run(&lab, &c, &["init", gun2, "-p"], &[("NOTARY_AUTH", AUTH)]);
    assert_eq!(out.status, 0, "{out}");
    assert_no_secrets(&out);
    // The root key made by the failed init above is reused, as Go does.
    assert!(
        out.stdout.starts_with("Root key found, using: ")
            && out.stdout.ends_with(&format!(
                "\nAuto-publishing changes to {gun2}\nSuccessfully published changes for repository {gun2}\n"
            )),
        "{out}"
    );
    assert_creds_are_alices(&reqs);

    // 4. list anonymously (pull token) shows the target; Go's client lists the same.
    let (out, reqs) = run(&lab, &c, &["list", gun], &[]);
    assert_eq!(out.status, 0, "{out}");
    assert_no_secrets(&out);
    assert_anonymous(&reqs);
    assert_eq!(scopes(&reqs), vec![format!("repository:{gun}:pull")]);
    let rows = notary_rs_tests::notary_cli::parse_list(&out.stdout).unwrap();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0].0, "v1");
    assert_eq!(rows[0].3, "targets");
    let (go_out, go_reqs) = run(&lab, &go, &["list", gun], &[]);
    assert_eq!(go_out.status, 0, "{go_out}");
    assert_eq!(go_out.stdout, out.stdout);
    assert_anonymous(&go_reqs);

    // A publish without credentials announces itself, then fails like Go's.
    let (out, reqs) = run(&lab, &c, &["add", gun, "v2", &target], &[]);
    assert_eq!(out.status, 0, "{out}");
    assert!(reqs.is_empty(), "{reqs:?}");
    let (out, reqs) = run(&lab, &c, &["publish", gun], &[]);
    assert_eq!(out.status, 1, "{out}");
    assert_no_secrets(&out);
    assert_anonymous(&reqs);
    let go_target = go.scratch().join("t.txt");
    std::fs::write(&go_target, b"go target\n").unwrap();
    go.ok(&["add", go_gun, "v2", &go_target.display().to_string()]);
    let (go_out, go_reqs) = run(&lab, &go, &["publish", go_gun], &[]);
    assert_eq!(go_out.status, 1, "{go_out}");
    assert_anonymous(&go_reqs);
    assert_eq!(
        out.stdout.replace(gun, "GUN"),
        go_out
            .stdout
            .replacen("Enter username: ", "", 1)
            .replace(go_gun, "GUN"),
        "ours:\n{out}\nGo:\n{go_out}"
    );
    assert_eq!(
        out.stdout,
        format!("Pushing changes to {gun}\n\n{UNAUTHORIZED}\n")
    );
    // Nothing new on the server.
    assert_eq!(c.list(gun).len(), 1);

    // 5. delete --remote with a wrong password: pull-only token, 401, as Go.
    let (out, reqs) = run(
        &lab,
        &c,
        &["delete", gun, "--remote"],
        &[("NOTARY_AUTH", BAD_AUTH)],
    );
    assert_eq!(out.status, 1, "{out}");
    assert_no_secrets(&out);
    assert!(reqs.iter().all(|r| !r.authenticated), "{reqs:?}");
    assert!(
        scopes(&reqs).contains(&format!("repository:{gun}:*")),
        "{reqs:?}"
    );
    let (go_out, _) = run(
        &lab,
        &go,
        &["delete", go_gun, "--remote"],
        &[("NOTARY_AUTH", BAD_AUTH)],
    );
    assert_eq!(go_out.status, 1, "{go_out}");
    assert_eq!(fatal_line(&out), fatal_line(&go_out));
    assert_eq!(fatal_line(&out), UNAUTHORIZED);
    assert_eq!(
        out.stdout.replace(gun, "GUN"),
        go_out.stdout.replace(go_gun, "GUN"),
        "ours:\n{out}\nGo:\n{go_out}"
    );
    // Still on the server (a fresh Go client: no cached metadata to fall back on).
    let fresh = NotaryClient::new(&url);
    assert_eq!(fresh.run(&["list", gun], None).status, 0);
    assert_eq!(fresh.run(&["list", go_gun], None).status, 0);

    // 6. delete --remote with credentials: `*` scope, gone from the server.
    let (out, reqs) = run(
        &lab,
        &c,
        &["delete", gun, "--remote"],
        &[("NOTARY_AUTH", AUTH)],
    );
    assert_eq!(out.status, 0, "{out}");
    assert_no_secrets(&out);
    assert_eq!(
        out.stdout,
        format!("Deleting trust data for repository {gun}\nSuccessfully deleted local and remote trust data for repository {gun}\n")
    );
    assert_creds_are_alices(&reqs);
    assert!(
        reqs.iter()
            .any(|r| r.scopes == vec![format!("repository:{gun}:*")] && r.authenticated),
        "{reqs:?}"
    );
    let (go_out, _) = run(
        &lab,
        &go,
        &["delete", go_gun, "--remote"],
        &[("NOTARY_AUTH", AUTH)],
    );
    assert_eq!(go_out.status, 0, "{go_out}");
    assert_eq!(
        out.stdout.replace(gun, "GUN"),
        go_out.stdout.replace(go_gun, "GUN")
    );
    let fresh = NotaryClient::new(&url);
    for g in [gun, go_gun] {
        let out = fresh.run(&["list", g], None);
        assert_eq!(
            fatal_line(&out),
            format!("* fatal: {} does not have trust data for {g}", host(&url)),
            "{out}"
        );
    }
    // The other repository is untouched.
    let out = fresh.run(&["list", gun2], None);
    assert_eq!(out.status, 0, "{out}");
}
