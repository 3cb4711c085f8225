//! `circleci builds` and `circleci insights`: a project's recent pipelines, each with the
//! result of its workflows, for dashboards; and CircleCI's own numbers per workflow (or per
//! job of one workflow) from the insights API: success rate, runs, throughput, duration
//! p50/p95.

use serde::{Deserialize, Serialize};

use super::api::{Api, Pipeline};
use super::watch::PipelineWatch;
use super::{Slug, NAME};
use crate::cli::args::Args;
use crate::cli::OutputMode;
use crate::error::{Error, Result};
use crate::http::{encode, PageBudget};
use crate::listing::{self, Filter, Listed};
use crate::output::Report;
use crate::wait::BuildState;
use crate::Ctx;

/// A runaway `next_page_token` must not loop: 1,000 pipelines at 20 a page, or insights of
/// that many workflows.
const MAX_PAGES: usize = 50;

/// The project's newest pipelines that pass `filter`, each read with its workflows: the
/// branch goes to CircleCI, the status (a pipeline's overall word, which CircleCI does not
/// keep) is judged here.
pub fn builds(ctx: &Ctx, api: &Api, slug: &Slug, filter: &Filter) -> Result<Vec<Listed>> {
    let mut budget = PageBudget::default();
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    let mut examined = 0;
    for _ in 0..MAX_PAGES {
        let page = api.pipeline_list(ctx, slug, filter.branch.as_deref(), token.as_deref())?;
        budget.spend(&page.response, "the pipeline list")?;
        for pipeline in page.items {
            examined += 1;
            let row = listed(ctx, api, pipeline)?;
            if filter.keeps(&row) {
                rows.push(row);
            }
            if rows.len() >= filter.limit || examined >= listing::MAX_LIMIT {
                return Ok(rows);
            }
        }
        match page.next {
            Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
            _ => break,
        }
    }
    Ok(rows)
}

/// A pipeline as a list row: its overall word as `status` shows it, finished when its last
/// workflow stopped.
fn listed(ctx: &Ctx, api: &Api, p: Pipeline) -> Result<Listed> {
    let mut watch = PipelineWatch::new(api, &p.id)
        .with_pipeline(p.clone())
        .quiet();
    let seen = watch.poll(ctx)?;
    let finished_at = match seen.state {
        BuildState::Running => None,
        _ => watch
            .workflows
            .iter()
            .filter_map(|w| w.stopped_at.clone())
            .max_by_key(|t| crate::time::rfc3339(t)),
    };
    let vcs = p.vcs.clone().unwrap_or_default();
    Ok(Listed {
        provider: NAME,
        id: p.id.clone(),
        number: Some(p.number),
        pipeline: Some(p.project_slug.clone()),
        branch: vcs.branch,
        commit: vcs.revision,
        status: watch.status_word(),
        result: listing::result_word(seen.state),
        duration_s: listing::duration_s(p.created_at.as_deref(), finished_at.as_deref()),
        created_at: p.created_at.clone(),
        finished_at,
        url: Some(api.pipeline_url(&p.project_slug, p.number)),
    })
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    items: Vec<Item>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// One workflow's (or job's) summary, as the insights API gives it.
#[derive(Debug, Deserialize)]
struct Item {
    name: String,
    metrics: Metrics,
    #[serde(default)]
    window_start: Option<String>,
    #[serde(default)]
    window_end: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Metrics {
    #[serde(default)]
    success_rate: Option<f64>,
    #[serde(default)]
    total_runs: Option<u64>,
    #[serde(default)]
    failed_runs: Option<u64>,
    #[serde(default)]
    successful_runs: Option<u64>,
    #[serde(default)]
    throughput: Option<f64>,
    #[serde(default)]
    duration_metrics: Option<Durations>,
}

#[derive(Debug, Default, Deserialize)]
struct Durations {
    #[serde(default)]
    median: Option<u64>,
    #[serde(default)]
    p95: Option<u64>,
}

/// A row of `insights` in JSON mode: the same keys for a workflow and a job.
#[derive(Debug, Serialize, PartialEq)]
pub struct Summary {
    pub provider: &'static str,
    pub project: String,
    /// The workflow; with `--workflow`, the workflow the job belongs to.
    pub workflow: String,
    pub job: Option<String>,
    pub success_rate: Option<f64>,
    pub total_runs: Option<u64>,
    pub successful_runs: Option<u64>,
    pub failed_runs: Option<u64>,
    /// Runs a day, on average.
    pub throughput: Option<f64>,
    pub duration_p50_s: Option<u64>,
    pub duration_p95_s: Option<u64>,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
}

/// CircleCI's reporting windows, as its API names them.
const WINDOWS: &[&str] = &[
    "last-24-hours",
    "last-7-days",
    "last-30-days",
    "last-60-days",
    "last-90-days",
];

/// `circleci insights [SLUG] [--workflow NAME] [--branch B] [--reporting-window W]`.
pub fn insights(ctx: &Ctx, args: &Args) -> Result<Report> {
    let slug = Slug::resolve(args.positional(0))?;
    let workflow = args.given("--workflow").map(str::to_string);
    let window = args.given("--reporting-window").map(str::trim);
    if let Some(w) = window.filter(|w| !WINDOWS.contains(w)) {
        return Err(Error::usage(format!(
            "--reporting-window `{w}`: use one of {}",
            WINDOWS.join(", ")
        )));
    }
    let mut query = Vec::new();
    if let Some(branch) = args.given("--branch") {
        query.push(format!("branch={}", encode(branch)));
    }
    if let Some(w) = window {
        query.push(format!("reporting-window={w}"));
    }
    let api = Api::from_env()?;
    let path = match &workflow {
        Some(name) => format!("/workflows/{}/jobs", encode(name)),
        None => "/workflows".to_string(),
    };
    let summaries = read_pages(ctx, &api, &slug, &path, &query)?;
    let rows: Vec<Summary> = summaries
        .into_iter()
        .map(|item| summary(&slug, workflow.as_deref(), item))
        .collect();
    ctx.out.answer(&lines(ctx.out.mode, &rows));
    Ok(Report::resource(
        NAME,
        "insights",
        &slug.to_string(),
        Some(api.pipelines_page(&slug.to_string())),
        format!("{} summaries", rows.len()),
    ))
}

fn read_pages(
    ctx: &Ctx,
    api: &Api,
    slug: &Slug,
    path: &str,
    query: &[String],
) -> Result<Vec<Item>> {
    let mut budget = PageBudget::default();
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut q = query.to_vec();
        if let Some(t) = &token {
            q.push(format!("page-token={}", encode(t)));
        }
        let target = match q.is_empty() {
            true => path.to_string(),
            false => format!("{path}?{}", q.join("&")),
        };
        let resp = api.insights(ctx, slug, &target)?;
        budget.spend(&resp, "the insights")?;
        let page: Page = resp.decode()?;
        all.extend(page.items);
        match page.next_page_token.filter(|t| !t.is_empty()) {
            Some(next) if token.as_deref() != Some(next.as_str()) => token = Some(next),
            _ => break,
        }
    }
    Ok(all)
}

fn summary(slug: &Slug, workflow: Option<&str>, item: Item) -> Summary {
    let m = item.metrics;
    let d = m.duration_metrics.unwrap_or_default();
    let (workflow, job) = match workflow {
        Some(w) => (w.to_string(), Some(item.name)),
        None => (item.name, None),
    };
    Summary {
        provider: NAME,
        project: slug.to_string(),
        workflow,
        job,
        success_rate: m.success_rate,
        total_runs: m.total_runs,
        successful_runs: m.successful_runs,
        failed_runs: m.failed_runs,
        throughput: m.throughput,
        duration_p50_s: d.median,
        duration_p95_s: d.p95,
        window_start: item.window_start,
        window_end: item.window_end,
    }
}

/// A table (text mode) or one JSON object per line.
fn lines(mode: OutputMode, rows: &[Summary]) -> Vec<String> {
    if mode == OutputMode::Json {
        return rows
            .iter()
            .map(|r| serde_json::to_string(r).expect("a summary is plain data"))
            .collect();
    }
    let jobs = rows.iter().any(|r| r.job.is_some());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let name = r.job.clone().unwrap_or_else(|| r.workflow.clone());
            let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
            let secs = |v: Option<u64>| v.map(|v| format!("{v}s")).unwrap_or_default();
            vec![
                name,
                r.success_rate
                    .map(|s| format!("{:.1}%", s * 100.0))
                    .unwrap_or_default(),
                n(r.total_runs),
                r.throughput
                    .map(|t| format!("{t:.2}/day"))
                    .unwrap_or_default(),
                secs(r.duration_p50_s),
                secs(r.duration_p95_s),
            ]
        })
        .collect();
    let head = [
        if jobs { "JOB" } else { "WORKFLOW" },
        "SUCCESS",
        "RUNS",
        "THROUGHPUT",
        "P50",
        "P95",
    ];
    vec![listing::columns(&head, &cells, 2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insights_rows_for_workflows_and_jobs() {
        let page: Page = serde_json::from_str(
            r#"{"items": [{"name": "build", "metrics": {"success_rate": 0.875, "total_runs": 8, "failed_runs": 1, "successful_runs": 7, "throughput": 1.5, "mttr": 60, "duration_metrics": {"min": 1, "mean": 70, "median": 62, "p95": 130, "max": 140, "standard_deviation": 9.5}}, "window_start": "2026-09-01T00:00:00Z", "window_end": "2026-11-30T00:00:00Z"}], "next_page_token": null}"#,
        )
        .unwrap();
        let slug = Slug::parse("gh/acme/app").unwrap();
        let rows: Vec<Summary> = page
            .items
            .into_iter()
            .map(|i| summary(&slug, None, i))
            .collect();
        assert_eq!(rows[0].duration_p50_s, Some(62));
        let json = lines(OutputMode::Json, &rows);
        assert!(json[0].starts_with(r#"{"provider":"circleci","project":"gh/acme/app","workflow":"build","job":null,"success_rate":0.875"#), "{json:?}");
        let table = lines(OutputMode::Text, &rows);
        assert_eq!(
            table,
            ["WORKFLOW  SUCCESS  RUNS  THROUGHPUT  P50  P95\nbuild     87.5%    8     1.50/day    62s  130s"]
        );
    }
}
