//! `PROVIDER builds` for dashboards: one JSON Lines shape for every provider, pages followed
//! up to `--limit`, filters, and a dashboard that merges two providers' lists; Codeship API
//! v2's projects; CircleCI's insights.

use serde_json::{json, Value};

use crate::fakes::circleci::{pipeline_id, Circle, SLUG};
use crate::fakes::codefresh::Codefresh;
use crate::fakes::codeship_v1::{CodeshipV1, PROJECT, REPOSITORY};
use crate::fakes::codeship_v2::{CodeshipV2, AES_KEY, ORG, PRO};
use crate::fakes::Fake;
use crate::support::{called_as, cirelay, Run, TempDir};

/// The keys of every row, in this order, whatever the provider.
pub const KEYS: [&str; 12] = [
    "provider",
    "id",
    "number",
    "pipeline",
    "branch",
    "commit",
    "status",
    "result",
    "created_at",
    "finished_at",
    "duration_s",
    "url",
];

fn rows(run: &Run) -> Vec<Value> {
    run.assert_code(0);
    run.stdout
        .lines()
        .map(|l| {
            // The keys in the order written, not as a map reads them back.
            let keys: Vec<String> = l
                .trim_start_matches('{')
                .split(",\"")
                .filter_map(|part| part.trim_start_matches('"').split_once("\":"))
                .map(|(k, _)| k.to_string())
                .filter(|k| KEYS.contains(&k.as_str()))
                .collect();
            assert_eq!(keys, KEYS, "{l}");
            serde_json::from_str(l).unwrap()
        })
        .collect()
}

/// A row's provider word and the result it stands for.
pub fn status_and_result(row: &Value) -> (&str, &str) {
    (
        row["status"].as_str().unwrap_or_default(),
        row["result"].as_str().unwrap_or_default(),
    )
}

fn list(fake: &impl Fake, args: &[&str]) -> Run {
    cirelay(args)
        .env_all(fake.env())
        .args(&["--output", "json"])
        .run()
}

#[test]
fn codeship_v2_follows_pages_within_its_limits() {
    let fake = CodeshipV2::start("success");
    let all = rows(&list(&fake, &["codeship", "builds", "--limit", "60"]));
    assert_eq!(all.len(), 60);
    assert_eq!(all[0]["provider"], "codeship");
    assert_eq!(all[0]["pipeline"], PRO);
    assert!(all[0]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://app.codeship.com/projects/"));
    let lines = fake.server.lines();
    assert_eq!(
        lines[1..],
        [
            format!("GET {}", CodeshipV2::list_target(PRO, 1)),
            format!("GET {}", CodeshipV2::list_target(PRO, 2))
        ]
    );
    // Codeship has no filters of its own: they are applied to the pages read.
    let master = rows(&list(
        &fake,
        &[
            "codeship", "builds", "--branch", "master", "--status", "success", "--limit", "2",
        ],
    ));
    assert!(
        master
            .iter()
            .all(|r| r["branch"] == "master" && r["status"] == "success"),
        "{master:?}"
    );
    // A project named on the line wins over the variable.
    let run = list(
        &fake,
        &[
            "codeship",
            "builds",
            "7b3596c0-560e-4135-8b18-0000000000b2",
            "--limit",
            "1",
        ],
    );
    rows(&run);
    assert!(fake
        .server
        .lines()
        .last()
        .unwrap()
        .contains("/projects/7b3596c0-560e-4135-8b18-0000000000b2/builds"));
    let run = list(&fake, &["codeship", "builds", "12345"]);
    run.assert_fails(4, &["is a number", "uuid"]);
}

#[test]
fn codeship_v1_lists_what_its_project_read_returns() {
    let fake = CodeshipV1::start("success");
    let all = rows(&list(&fake, &["codeship", "builds", "--limit", "2"]));
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["pipeline"], REPOSITORY);
    assert!(all[0]["number"].as_u64() > all[1]["number"].as_u64());
    let sent = fake.server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path(), format!("/api/v1/projects/{PROJECT}.json"));
    assert_eq!(sent[0].query("branch"), None);
}

#[test]
fn circleci_reads_each_pipelines_workflows_for_its_result() {
    let fake = Circle::start();
    fake.add_finished_pipelines(30);
    let all = rows(&list(
        &fake,
        &[
            "circleci", "builds", SLUG, "--branch", "main", "--limit", "25",
        ],
    ));
    assert_eq!(all.len(), 25);
    assert_eq!(all[0]["number"], 229);
    assert_eq!(all[0]["id"], pipeline_id(229));
    // Every third added pipeline's `test` failed: #227 is the newest of those.
    assert_eq!(status_and_result(&all[0]), ("success", "success"));
    assert_eq!(status_and_result(&all[2]), ("failed", "failed"));
    assert_eq!(all[0]["duration_s"], 1800);
    assert_eq!(all[0]["commit"], "f454a02b5d10fcccfd7d9dd7608a76d6493a98b4");
    let lists: Vec<String> = fake
        .server
        .lines()
        .into_iter()
        .filter(|l| l.contains("/pipeline?"))
        .collect();
    assert_eq!(
        lists,
        [
            format!("GET /api/v2/project/{SLUG}/pipeline?branch=main"),
            format!("GET /api/v2/project/{SLUG}/pipeline?branch=main&page-token=after-20"),
        ]
    );
    // The status is the pipeline's overall word, judged from its workflows.
    let failed = rows(&list(
        &fake,
        &[
            "circleci", "builds", SLUG, "--status", "failed", "--limit", "3",
        ],
    ));
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|r| r["result"] == "failed"), "{failed:?}");
    let run = list(&fake, &["circleci", "builds", "gh/acme/nope"]);
    run.assert_fails(5, &["404", "gh/acme/nope"]);
}

/// The README's dashboard: two providers' lists merged, newest first, by one script.
#[test]
fn one_script_reads_every_providers_list() {
    let codefresh = Codefresh::start("success");
    let circle = Circle::start();
    let mut merged = Vec::new();
    let run = called_as("codefresh", &["builds", "--limit", "3", "--output", "json"])
        .env_all(codefresh.env())
        .run();
    merged.extend(rows(&run));
    merged.extend(rows(&list(
        &circle,
        &["circleci", "builds", SLUG, "--limit", "3"],
    )));
    merged.sort_by(|a, b| b["created_at"].as_str().cmp(&a["created_at"].as_str()));
    let providers: Vec<&str> = merged
        .iter()
        .filter_map(|r| r["provider"].as_str())
        .collect();
    assert!(providers.contains(&"codefresh") && providers.contains(&"circleci"));
    for row in &merged {
        assert!(["success", "failed", "terminated", "running"]
            .contains(&row["result"].as_str().unwrap()));
    }
}

#[test]
fn list_flags_are_checked_before_anything_is_sent() {
    let fake = Codefresh::start("success");
    for (args, wanted) in [
        (&["builds", "--limit", "0"][..], "--limit: `0`"),
        (&["builds", "--limit", "1001"], "1 to 1000"),
        (&["builds", "--limit", "many"], "--limit"),
    ] {
        let run = called_as("codefresh", args).env_all(fake.env()).run();
        run.assert_fails(4, &[wanted]);
    }
    assert!(fake.server.lines().is_empty());
}

#[test]
fn codeship_projects_are_listed_read_and_created_without_their_key() {
    let fake = CodeshipV2::start("success");
    let run = list(&fake, &["codeship", "projects"]);
    run.assert_code(0);
    run.assert_no_secret(&[AES_KEY]);
    let projects: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(projects.len(), 57);
    assert_eq!(projects[0]["uuid"], PRO);
    let pages: Vec<String> = fake
        .server
        .lines()
        .into_iter()
        .filter(|l| l.contains("/projects?"))
        .collect();
    assert_eq!(
        pages,
        [
            format!("GET /v2/organizations/{ORG}/projects?page=1&per_page=50"),
            format!("GET /v2/organizations/{ORG}/projects?page=2&per_page=50"),
        ]
    );
    let run = cirelay(&["codeship", "project", "get", PRO])
        .env_all(fake.env())
        .run();
    run.assert_code(0);
    run.assert_no_secret(&[AES_KEY]);
    let project: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(project["name"], "acme/app");
    assert!(project.get("aes_key").is_none());

    let dir = TempDir::new("cs-project");
    let spec = dir.join("project.json");
    std::fs::write(
        &spec,
        r#"{"repository_url": "git@github.com:acme/new.git", "type": "basic", "team_ids": [61593], "setup_commands": ["npm ci"], "test_pipelines": [{"name": "tests", "commands": ["npm test"]}]}"#,
    )
    .unwrap();
    let path = spec.to_str().unwrap();
    let run = cirelay(&["codeship", "project", "create", "-f", path])
        .env_all(fake.env())
        .run();
    run.assert_code(0);
    run.assert_no_secret(&[AES_KEY]);
    assert_eq!(run.stdout.trim(), "7b3596c0-560e-4135-8b18-000000000939");
    let sent = fake.server.requests().pop().unwrap();
    assert_eq!(
        sent.line(),
        format!("POST /v2/organizations/{ORG}/projects")
    );
    assert_eq!(sent.json()["team_ids"], json!([61593]));
    // Codeship's refusal of a second one is shown; a bad spec never leaves.
    let run = cirelay(&["codeship", "project", "create", "-f", path])
        .env_all(fake.env())
        .run();
    run.assert_fails(5, &["400", "already exists"]);
    std::fs::write(
        &spec,
        "{\n  \"repository_url\": \"x\",\n  \"type\": \"gold\",\n  \"team_ids\": []\n}",
    )
    .unwrap();
    let before = fake.server.lines().len();
    let run = cirelay(&["codeship", "project", "create", "-f", path])
        .env_all(fake.env())
        .run();
    run.assert_fails(
        4,
        &[
            "project.json",
            "line 3",
            "type: `gold` is not a project type",
        ],
    );
    assert_eq!(fake.server.lines().len(), before);
}

#[test]
fn codeship_projects_need_api_v2_and_its_scopes() {
    let v1 = CodeshipV1::start("success");
    let run = cirelay(&["codeship", "projects"]).env_all(v1.env()).run();
    run.assert_fails(4, &["needs Codeship API v2"]);
    let fake = CodeshipV2::start("success");
    fake.set(|s| s.orgs[0].2.retain(|scope| scope != "project.write"));
    let dir = TempDir::new("cs-scope");
    let spec = dir.join("p.json");
    std::fs::write(
        &spec,
        r#"{"repository_url": "git@github.com:a/b.git", "type": "pro", "team_ids": [1]}"#,
    )
    .unwrap();
    let run = cirelay(&[
        "codeship",
        "project",
        "create",
        "-f",
        spec.to_str().unwrap(),
    ])
    .env_all(fake.env())
    .run();
    run.assert_fails(5, &["403", "project.write"]);
    let run = cirelay(&[
        "codeship",
        "project",
        "get",
        "7b3596c0-560e-4135-8b18-00000000dead",
    ])
    .env_all(fake.env())
    .run();
    run.assert_fails(5, &["404", "codeship projects"]);
}

#[test]
fn circleci_insights_per_workflow_and_per_job() {
    let fake = Circle::start();
    let run = list(&fake, &["circleci", "insights", SLUG, "--branch", "main"]);
    run.assert_code(0);
    let rows: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "both pages");
    assert_eq!(
        rows[0],
        json!({"provider": "circleci", "project": SLUG, "workflow": "build-and-test", "job": null,
               "success_rate": 0.9, "total_runs": 200, "successful_runs": 180, "failed_runs": 20,
               "throughput": 200.0 / 90.0, "duration_p50_s": 300, "duration_p95_s": 600,
               "window_start": "2026-09-02T00:00:00Z", "window_end": "2026-12-01T00:00:00Z"})
    );
    assert_eq!(
        fake.server.lines(),
        [
            format!("GET /api/v2/insights/{SLUG}/workflows?branch=main"),
            format!("GET /api/v2/insights/{SLUG}/workflows?branch=main&page-token=insights-2"),
        ]
    );
    let run = cirelay(&[
        "circleci",
        "insights",
        SLUG,
        "--workflow",
        "build-and-test",
        "--reporting-window",
        "last-30-days",
    ])
    .env_all(fake.env())
    .run();
    run.assert_code(0);
    let table: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(table[0], "JOB    SUCCESS  RUNS  THROUGHPUT  P50   P95");
    assert_eq!(table[1], "build  99.0%    200   2.22/day    120s  240s");
    assert_eq!(
        fake.server.lines().last().unwrap(),
        &format!("GET /api/v2/insights/{SLUG}/workflows/build-and-test/jobs?reporting-window=last-30-days")
    );
    let run = cirelay(&[
        "circleci",
        "insights",
        SLUG,
        "--reporting-window",
        "forever",
    ])
    .env_all(fake.env())
    .run();
    run.assert_fails(4, &["--reporting-window `forever`"]);
    let run = cirelay(&["circleci", "insights", SLUG, "--workflow", "nope"])
        .env_all(fake.env())
        .run();
    run.assert_fails(5, &["404"]);
}

/// Codeship's `403 Rate Limit Exceeded` (in the body or on the status line) between pages is
/// waited out, so is CircleCI's 429 on insights; a project create whose outcome is unknown
/// is not sent again.
#[test]
fn rate_limits_between_pages_and_unknown_creates() {
    use crate::fakes::codeship_v2::rate_limit_answers;
    use crate::support::Reply;
    let fake = CodeshipV2::start("success");
    let page2 = format!("{}/builds", CodeshipV2::prefix(PRO));
    let [in_the_body, on_the_status_line] = rate_limit_answers();
    fake.server
        .inject("GET", &page2, vec![in_the_body.header("Retry-After", "0")]);
    rows(&list(&fake, &["codeship", "builds", "--limit", "60"]));
    fake.server.inject(
        "GET",
        &page2,
        vec![on_the_status_line.header("Retry-After", "0")],
    );
    rows(&list(&fake, &["codeship", "builds", "--limit", "60"]));

    let dir = TempDir::new("cs-unknown");
    let spec = dir.join("p.json");
    std::fs::write(
        &spec,
        r#"{"repository_url": "git@github.com:a/b.git", "type": "pro", "team_ids": [1]}"#,
    )
    .unwrap();
    let create = format!("/v2/organizations/{ORG}/projects");
    fake.server.inject(
        "POST",
        &create,
        vec![Reply::text(500, "Internal Server Error")],
    );
    let run = cirelay(&[
        "codeship",
        "project",
        "create",
        "-f",
        spec.to_str().unwrap(),
    ])
    .env_all(fake.env())
    .run();
    run.assert_fails(
        6,
        &["it may have been created", "the organization's projects"],
    );
    assert_eq!(fake.server.count("POST", &create), 1);

    let circle = Circle::start();
    circle.server.inject(
        "GET",
        "/api/v2/insights/",
        vec![Reply::text(429, "Too Many Requests").header("Retry-After", "0")],
    );
    let run = cirelay(&["circleci", "insights", SLUG, "--output", "json"])
        .env_all(circle.env())
        .run();
    run.assert_code(0);
    assert_eq!(run.stdout.lines().count(), 2);
    run.assert_no_secret(&circle.secrets());
}
