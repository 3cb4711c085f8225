//! The Codefresh CLI's commands besides `run`, under the `codefresh` name, against the fake:
//! the command lines of Codefresh's API page as they stand, `~/.cfconfig`, pipelines as code
//! (`get pipeline -o yaml` → `replace -f` unchanged), specs that are refused before anything
//! is sent, and `builds` for dashboards.

use std::os::unix::fs::PermissionsExt;

use serde_json::{json, Value};

use crate::fakes::codefresh::{Codefresh, KEY, NEWEST_MAIN, PROJECT_PIPELINE};
use crate::fakes::Fake;
use crate::listing::status_and_result;
use crate::support::{called_as, read, Run, TempDir};

fn codefresh(fake: &Codefresh, args: &[&str]) -> Run {
    called_as("codefresh", args).env_all(fake.env()).run()
}

/// A workstation set up by `codefresh auth create-context`: HOME, and CF_URL only for the
/// address (the key comes from the file).
fn at_home(fake: &Codefresh, home: &TempDir, args: &[&str]) -> Run {
    called_as("codefresh", args)
        .env("HOME", home.text())
        .env("CF_URL", &fake.server.url)
        .run()
}

/// Without `CF_API_KEY` requests go to the current context's url, so a build's web address
/// is read on that host too, whatever `CF_URL` says.
#[test]
fn without_a_key_a_web_address_is_read_on_the_contexts_host() {
    let fake = Codefresh::start("success");
    let home = TempDir::new("cf-home-address");
    at_home(&fake, &home, &["auth", "create-context", "--api-key", KEY]).assert_code(0);
    let address = format!("{}/build/{NEWEST_MAIN}", fake.server.url);
    let run = called_as("codefresh", &["status", &address])
        .env("HOME", home.text())
        .env("CF_URL", "https://codefresh.elsewhere.example")
        .run();
    // That build failed: `status` exits 1.
    run.assert_code(1);
    assert_eq!(run.stdout, "error\n", "{}", run.stderr);
}

#[test]
fn the_command_lines_of_codefreshs_api_page_run_unchanged() {
    let fake = Codefresh::start("success");
    let home = TempDir::new("cf-home");
    // Using the API key with the Codefresh CLI.
    let run = at_home(&fake, &home, &["auth", "create-context", "--api-key", KEY]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "Created new context: default\nSwitched to context: default\n"
    );
    run.assert_no_secret(&[KEY]);
    let config = home.join(".cfconfig");
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let written: Value = serde_norway::from_str(&read(&config)).unwrap();
    assert_eq!(written["current-context"], "default");
    assert_eq!(
        written["contexts"]["default"],
        json!({"type": "APIKey", "name": "default", "url": fake.server.url, "token": KEY, "beta": false, "onPrem": false})
    );

    // Getting the status of builds, with the key from ~/.cfconfig.
    let run = at_home(&fake, &home, &["get", "builds", NEWEST_MAIN]);
    run.assert_code(0);
    let table: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        table[0],
        [
            "ID",
            "PIPELINE-NAME",
            "STATUS",
            "CREATED",
            "STARTED",
            "FINISHED",
            "TOTALTIME",
            "TRIGGER",
            "WEBHOOK",
            "REPOSITORY",
            "BRANCH"
        ]
    );
    assert_eq!(
        table[1],
        [
            NEWEST_MAIN,
            "proj/deploy",
            "error",
            "2026-11-01,",
            "10:00:00",
            "2026-11-01,",
            "10:00:01",
            "2026-11-01,",
            "10:01:31",
            "00:01:31",
            "false",
            "acme/app",
            "main"
        ]
    );

    // Creating Codefresh pipelines externally: a spec from an existing pipeline, a project,
    // and a pipeline in it.
    let run = at_home(
        &fake,
        &home,
        &["get", "pipeline", PROJECT_PIPELINE, "-o", "yaml"],
    );
    run.assert_code(0);
    let spec_file = home.join("spec.yml");
    std::fs::write(&spec_file, &run.stdout).unwrap();
    let run = at_home(&fake, &home, &["create", "project", "acme"]);
    run.assert_code(0);
    assert_eq!(run.stdout, "Project: \"acme\" created\n");
    let renamed = read(&spec_file).replace("name: proj/deploy", "name: acme/deploy");
    std::fs::write(&spec_file, renamed).unwrap();
    let file = spec_file.to_str().unwrap();
    let run = at_home(&fake, &home, &["create", "pipeline", "-f", file]);
    run.assert_code(0);
    assert_eq!(run.stdout, "Pipeline acme/deploy created\n");
    let created = fake.spec("acme/deploy").expect("the pipeline was created");
    assert_eq!(
        created["spec"],
        fake.spec(PROJECT_PIPELINE).unwrap()["spec"]
    );
    // And `codefresh run` from the same workstation.
    let run = at_home(&fake, &home, &["run", PROJECT_PIPELINE, "-b", "main", "-d"]);
    run.assert_code(0);

    let sent: Vec<String> = fake.server.lines();
    assert_eq!(
        sent,
        [
            "GET /api/user".to_string(),
            format!("GET /api/builds/{NEWEST_MAIN}?noAccount=false"),
            "GET /api/pipelines/proj%2Fdeploy".to_string(),
            "GET /api/projects/name/acme".to_string(),
            "POST /api/projects".to_string(),
            "POST /api/pipelines".to_string(),
            "POST /api/pipelines/run/proj%2Fdeploy".to_string(),
        ]
    );
    let project = &fake.server.requests()[4];
    assert_eq!(project.json(), json!({"projectName": "acme", "tags": []}));
    for req in fake.server.requests() {
        assert_eq!(req.header("authorization"), Some(KEY), "{}", req.line());
    }
}

#[test]
fn a_spec_from_get_pipeline_goes_back_unchanged_through_replace() {
    for format in ["yaml", "json"] {
        let fake = Codefresh::start("success");
        let dir = TempDir::new("cf-spec");
        let run = codefresh(&fake, &["get", "pipeline", PROJECT_PIPELINE, "-o", format]);
        run.assert_code(0);
        if format == "yaml" {
            assert!(
                run.stdout
                    .starts_with("version: \"1.0\"\nkind: pipeline\nmetadata:\n"),
                "{}",
                run.stdout
            );
        } else {
            assert!(
                run.stdout.starts_with("{\n\t\"version\": \"1.0\",\n\t\"kind\": \"pipeline\",\n\t\"metadata\": {\n\t\t\""),
                "{}",
                run.stdout
            );
        }
        let file = dir.join(format!("spec.{format}"));
        std::fs::write(&file, &run.stdout).unwrap();
        let before = fake.spec(PROJECT_PIPELINE).unwrap();
        let run = codefresh(&fake, &["replace", "-f", file.to_str().unwrap()]);
        run.assert_code(0);
        assert_eq!(run.stdout, "Pipeline 'proj/deploy' updated\n");
        let put = fake.server.requests().pop().unwrap();
        assert_eq!(
            put.line(),
            "PUT /api/pipelines/proj%2Fdeploy?disableRevisionCheck=true"
        );
        assert_eq!(
            put.json(),
            before,
            "{format}: the spec went back as it came"
        );
    }
}

#[test]
fn apply_creates_what_is_missing_and_replaces_what_exists() {
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-apply");
    let file = dir.join("new.yml");
    std::fs::write(
        &file,
        "version: '1.0'\nkind: pipeline\nmetadata:\n  name: acme/new\n  project: acme\nspec:\n  steps:\n    hello:\n      image: alpine\n      commands: [echo hi]\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let run = codefresh(&fake, &["apply", "-f", path]);
    run.assert_code(0);
    assert_eq!(run.stdout, "Pipeline acme/new created\n");
    let run = codefresh(&fake, &["apply", "-f", path, "--output", "json"]);
    run.assert_code(0);
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        (
            report["action"].clone(),
            report["id"].clone(),
            report["status"].clone()
        ),
        (json!("apply"), json!("acme/new"), json!("updated"))
    );
    assert_eq!(
        fake.server.lines(),
        [
            "GET /api/pipelines/acme%2Fnew",
            "POST /api/pipelines",
            "GET /api/pipelines/acme%2Fnew",
            "PUT /api/pipelines/acme%2Fnew?disableRevisionCheck=true",
        ]
    );
    // `create` on a pipeline that exists is Codefresh's refusal.
    let run = codefresh(&fake, &["create", "-f", path]);
    run.assert_fails(5, &["409", "already exists", "replace -f", "apply -f"]);
}

#[test]
fn a_spec_that_is_not_valid_is_refused_with_its_line_and_field_before_anything_is_sent() {
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-bad");
    for (text, parts) in [
        (
            "version: '1.0'\nkind: pipeline\nmetadata:\n  name: acme/x\nspec:\n  triggers:\n    - type: git\n",
            &["line 7", "spec.triggers[0]: missing field `name`"][..],
        ),
        (
            "kind: pipeline\nmetadata:\n  name:\n    - a\n",
            &["line 4", "metadata.name: invalid type: sequence, expected a string"],
        ),
        ("kind: pipelines\nmetadata: {name: x}\n", &["line 1", "kind: `pipelines` is not a kind"]),
        ("kind: pipeline\nmetadata: {name: x\n", &["line 2"]),
        ("kind: project\nmetadata: {name: x}\n", &["kind is `project`, and this command takes pipeline"]),
        ("", &["the file is empty"]),
    ] {
        let file = dir.join("spec.yml");
        std::fs::write(&file, text).unwrap();
        let run = codefresh(&fake, &["replace", "-f", file.to_str().unwrap()]);
        let mut wanted = vec!["spec.yml"];
        wanted.extend_from_slice(parts);
        run.assert_fails(4, &wanted);
    }
    let run = codefresh(&fake, &["apply", "-f", "/nonexistent/spec.yml"]);
    run.assert_fails(4, &["cannot read the spec file /nonexistent/spec.yml"]);
    let run = codefresh(&fake, &["create", "pipeline"]);
    run.assert_fails(4, &["no spec file: pass -f FILE"]);
    assert_eq!(fake.server.lines(), Vec::<String>::new());
}

#[test]
fn create_context_checks_the_key_first_and_keeps_other_contexts() {
    let fake = Codefresh::start("success");
    let home = TempDir::new("cf-ctx");
    let config = home.join(".cfconfig");
    std::fs::write(
        &config,
        "contexts:\n  old:\n    type: APIKey\n    name: old\n    url: https://g.codefresh.io\n    token: old-token-0123456789\n    beta: true\n    onPrem: false\ncurrent-context: old\n",
    )
    .unwrap();
    // A key Codefresh refuses is not written.
    let run = at_home(
        &fake,
        &home,
        &[
            "auth",
            "create-context",
            "ci",
            "--api-key",
            "wrong-key-0123456789",
        ],
    );
    run.assert_fails(5, &["401", "the API key is not valid"]);
    run.assert_no_secret(&["wrong-key-0123456789"]);
    assert!(read(&config).contains("current-context: old"));
    let run = at_home(
        &fake,
        &home,
        &["auth", "create-context", "ci", "--api-key", KEY],
    );
    run.assert_code(0);
    run.assert_no_secret(&[KEY, "old-token-0123456789"]);
    let written: Value = serde_norway::from_str(&read(&config)).unwrap();
    assert_eq!(written["current-context"], "ci");
    assert_eq!(written["contexts"]["old"]["beta"], true);
    assert_eq!(written["contexts"]["ci"]["token"], KEY);
    // Without a key anywhere: what to do.
    let empty = TempDir::new("cf-empty");
    let run = called_as("codefresh", &["get", "builds", NEWEST_MAIN])
        .env("HOME", empty.text())
        .run();
    run.assert_fails(
        4,
        &["CF_API_KEY is not set", "codefresh auth create-context"],
    );
    let run = at_home(&fake, &home, &["auth", "create-context"]);
    run.assert_fails(4, &["--api-key KEY is required"]);
}

#[test]
fn get_builds_prints_the_codefresh_clis_build_objects() {
    let fake = Codefresh::start("success");
    let run = codefresh(&fake, &["get", "build", NEWEST_MAIN, "-o", "json"]);
    run.assert_code(0);
    let build: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        build,
        json!({
            "id": NEWEST_MAIN, "created": "2026-11-01T10:00:00.000Z",
            "started": "2026-11-01T10:00:01.000Z", "finished": "2026-11-01T10:01:31.000Z",
            "totalTime": "00:01:31", "buildTime": "00:01:30", "status": "error",
            "pipeline-name": "proj/deploy", "repository": "acme/app", "branch": "main",
            "webhook": false, "progress": format!("p-{NEWEST_MAIN}"),
            "pipeline-Id": "60aa00000000000000000d0d", "commit-Id": "81d2282b9c0e4f5a"
        })
    );
    assert!(
        run.stdout.contains("\n\t\"id\""),
        "tab-indented, as the Codefresh CLI"
    );
    let run = codefresh(
        &fake,
        &[
            "get",
            "builds",
            "--pipeline-name",
            PROJECT_PIPELINE,
            "-b",
            "main",
            "-l",
            "5",
            "-o",
            "yaml",
        ],
    );
    run.assert_code(0);
    assert!(
        run.stdout.starts_with(
            "items:\n- id: \"6100000000000000000000a2\"\n  created: \"2026-11-01T10:00:00.000Z\"\n"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("trigger: null"), "{}", run.stdout);
    let list = fake.server.lines().pop().unwrap();
    assert_eq!(
        list,
        "GET /api/workflow?limit=5&page=1&pipeline=60aa00000000000000000d0d&branchName=main"
    );
    let run = codefresh(&fake, &["get", "builds", NEWEST_MAIN, "-o", "xml"]);
    run.assert_fails(4, &["-o/--output `xml`"]);
}

#[test]
fn builds_lists_pages_up_to_the_limit_in_the_shape_every_provider_shares() {
    let fake = Codefresh::start("success");
    fake.add_finished_builds(70);
    let run = codefresh(
        &fake,
        &[
            "builds",
            "--pipeline",
            PROJECT_PIPELINE,
            "--branch",
            "main",
            "--limit",
            "60",
            "--output",
            "json",
        ],
    );
    run.assert_code(0);
    let rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 60);
    let keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut shared = crate::listing::KEYS.to_vec();
    shared.sort_unstable();
    assert_eq!(keys, shared, "serde_json sorts the keys it reads");
    assert!(
        run.stdout
            .starts_with("{\"provider\":\"codefresh\",\"id\":\"64000000000000000000004"),
        "{}",
        run.stdout
    );
    assert_eq!(rows[0]["duration_s"], 90);
    // The newest is the 70th added: every third of them failed.
    assert_eq!(status_and_result(&rows[0]), ("error", "failed"));
    assert_eq!(status_and_result(&rows[1]), ("success", "success"));
    assert_eq!(
        fake.server.lines(),
        [
            "GET /api/pipelines/proj%2Fdeploy",
            "GET /api/workflow?limit=50&page=1&pipeline=60aa00000000000000000d0d&branchName=main",
            "GET /api/workflow?limit=50&page=2&pipeline=60aa00000000000000000d0d&branchName=main",
        ]
    );
    // The status goes to Codefresh too, and the table is readable.
    let run = codefresh(&fake, &["builds", "--status", "error", "--limit", "3"]);
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(
        lines[0].starts_with("BUILD                     PIPELINE     BRANCH  STATUS"),
        "{}",
        run.stdout
    );
    assert_eq!(
        fake.server.lines().pop().unwrap(),
        "GET /api/workflow?limit=3&page=1&status=error"
    );
}

/// What can go wrong on the way: every refusal and fault ends in its documented exit code
/// with one line that says what to fix, and a pipeline create whose outcome is unknown is
/// never sent twice.
#[test]
fn faults_while_listing_and_creating() {
    use crate::support::Reply;
    let fake = Codefresh::start("success");
    let dir = TempDir::new("cf-faults");
    let file = dir.join("spec.yml");
    std::fs::write(
        &file,
        "kind: pipeline\nmetadata:\n  name: acme/new\nspec: {}\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let list = || {
        called_as(
            "codefresh",
            &["builds", "--limit", "2", "--interval", "10ms"],
        )
        .env_all(fake.env())
        .env("CIRELAY_RETRIES", "1")
        .run()
    };

    // A rate limit is waited out and the page read again.
    fake.server.inject(
        "GET",
        "/api/workflow",
        vec![Reply::text(429, "Too Many Requests").header("Retry-After", "0")],
    );
    list().assert_code(0);
    // A 5xx that stays, a hung answer: exit 6 after the retries.
    fake.server.inject(
        "GET",
        "/api/workflow",
        vec![Reply::text(502, "Bad Gateway"); 2],
    );
    list().assert_fails(6, &["/api/workflow", "502"]);
    fake.server.inject(
        "GET",
        "/api/workflow",
        vec![Reply::Hang(std::time::Duration::from_secs(5)); 2],
    );
    let run = called_as(
        "codefresh",
        &["builds", "--request-timeout", "200ms", "--interval", "10ms"],
    )
    .env_all(fake.env())
    .env("CIRELAY_RETRIES", "1")
    .run();
    run.assert_fails(6, &["no answer within --request-timeout"]);
    // Malformed JSON, and an id that could forge a line of a later step's input.
    fake.server.inject(
        "GET",
        "/api/workflow",
        vec![Reply::text(200, "{\"workflows\": [")],
    );
    list().assert_fails(5, &["unusable JSON"]);
    let forged = serde_json::json!({"workflows": {"docs": [{"id": "x\nCF_API_KEY=forged", "status": "success"}]}});
    fake.server
        .inject("GET", "/api/workflow", vec![Reply::json(200, forged)]);
    list().assert_fails(5, &["not an id"]);
    // 401 and 403 name the key; 404 names the pipeline.
    fake.server.inject(
        "GET",
        "/api/workflow",
        vec![Reply::json(
            401,
            serde_json::json!({"message": "Unauthorized"}),
        )],
    );
    list().assert_fails(5, &["CF_API_KEY was rejected"]);
    fake.server.inject(
        "GET",
        "/api/workflow",
        vec![Reply::json(
            403,
            serde_json::json!({"message": "Forbidden"}),
        )],
    );
    list().assert_fails(5, &["CF_API_KEY may not do this"]);
    let run = codefresh(&fake, &["builds", "--pipeline", "acme/none"]);
    run.assert_fails(5, &["pipeline acme/none not found"]);

    // A create that may have reached Codefresh is not sent again: exit 6, where to look.
    let before = fake.server.count("POST", "/api/pipelines");
    fake.server.inject(
        "POST",
        "/api/pipelines",
        vec![Reply::text(503, "Service Unavailable")],
    );
    let run = codefresh(&fake, &["create", "-f", path]);
    run.assert_fails(
        6,
        &[
            "it may have been created",
            "whether pipeline acme/new exists",
        ],
    );
    assert_eq!(fake.server.count("POST", "/api/pipelines"), before + 1);
    // A rate limit said Codefresh did nothing: sent again.
    fake.server.inject(
        "POST",
        "/api/pipelines",
        vec![Reply::text(429, "Too Many Requests").header("Retry-After", "0")],
    );
    codefresh(&fake, &["create", "-f", path]).assert_code(0);
    assert!(fake.spec("acme/new").is_some());
    run.assert_no_secret(&[KEY]);

    // A ~/.cfconfig that cannot be read is said plainly.
    let home = TempDir::new("cf-badconfig");
    std::fs::write(home.join(".cfconfig"), "contexts: [\n").unwrap();
    let run = at_home(&fake, &home, &["get", "builds", NEWEST_MAIN]);
    run.assert_fails(4, &[".cfconfig"]);
    let bad_url = "current-context: c\ncontexts:\n  c: {type: APIKey, name: c, url: 'ftp://cf.example.com', token: abcdefgh12345678}\n";
    std::fs::write(home.join(".cfconfig"), bad_url).unwrap();
    let run = called_as("codefresh", &["get", "builds", NEWEST_MAIN])
        .env("HOME", home.text())
        .run();
    run.assert_fails(4, &["the url of context `c`"]);
    run.assert_no_secret(&["abcdefgh12345678"]);
}
