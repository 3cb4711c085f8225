//! `PROVIDER builds`: recent builds for dashboards, one row shape for every provider, so
//! that one script reads them all (`jq -s` over two providers' JSON Lines). A provider
//! says how to list its builds; printing the table or the JSON Lines is done here.

use serde::Serialize;

use crate::cli::args::Args;
use crate::cli::OutputMode;
use crate::error::{Error, Result};
use crate::wait::BuildState;

/// `--limit` when not given.
pub const DEFAULT_LIMIT: usize = 20;
/// Pages are followed up to this many builds at most, whatever `--limit` says: a dashboard
/// needs recent builds, and the providers' rate limits are shared with every other step.
pub const MAX_LIMIT: usize = 1000;

/// What `--branch`, `--status` and `--limit` ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub branch: Option<String>,
    /// The provider's own status word.
    pub status: Option<String>,
    pub limit: usize,
}

impl Filter {
    pub fn from_args(args: &Args) -> Result<Self> {
        Self::with_default(args, DEFAULT_LIMIT)
    }

    /// As [`from_args`](Self::from_args), with another `--limit` default (a vendor CLI's).
    pub fn with_default(args: &Args, default_limit: usize) -> Result<Self> {
        let limit = match args.value("--limit") {
            None => default_limit,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::usage(format!(
                        "--limit: `{raw}` is not a number of builds from 1 to {MAX_LIMIT}"
                    )))
                }
            },
        };
        Ok(Filter {
            branch: args.given("--branch").map(str::to_string),
            status: args.given("--status").map(str::to_string),
            limit,
        })
    }

    /// Whether a build passes the filters a provider could not send to its API.
    pub fn keeps(&self, row: &Listed) -> bool {
        self.branch
            .as_deref()
            .is_none_or(|b| row.branch.as_deref() == Some(b))
            && self.status.as_deref().is_none_or(|s| row.status == s)
    }
}

/// One build in a list: the same keys, in this order, for every provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub provider: &'static str,
    pub id: String,
    pub number: Option<u64>,
    /// The pipeline, workflow or project it belongs to.
    pub pipeline: Option<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    /// The provider's own status word.
    pub status: String,
    /// `success`, `failed`, `terminated` or `running`, whatever the provider's word.
    pub result: &'static str,
    /// RFC 3339, as the provider gave it.
    pub created_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_s: Option<u64>,
    pub url: Option<String>,
}

/// `result` of a build in a list.
pub fn result_word(state: BuildState) -> &'static str {
    match state {
        BuildState::Success => "success",
        BuildState::Failed => "failed",
        BuildState::Terminated => "terminated",
        BuildState::Running => "running",
    }
}

/// The seconds between two RFC 3339 times, when both are there and in order.
pub fn duration_s(created: Option<&str>, finished: Option<&str>) -> Option<u64> {
    let from = crate::time::rfc3339(created?)?;
    let to = crate::time::rfc3339(finished?)?;
    u64::try_from(to - from).ok()
}

/// The list as stdout shows it: a table (text mode) or one JSON object per line.
pub fn lines(mode: OutputMode, rows: &[Listed]) -> Vec<String> {
    match mode {
        OutputMode::Json => rows
            .iter()
            .map(|row| serde_json::to_string(row).expect("a row is plain data"))
            .collect(),
        OutputMode::Text => vec![table(rows)],
    }
}

fn table(rows: &[Listed]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.number.map_or_else(|| r.id.clone(), |n| n.to_string()),
                r.pipeline.clone().unwrap_or_default(),
                r.branch.clone().unwrap_or_default(),
                r.status.clone(),
                r.created_at.clone().unwrap_or_default(),
                r.duration_s.map(|d| format!("{d}s")).unwrap_or_default(),
                r.url.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let head = [
        "BUILD", "PIPELINE", "BRANCH", "STATUS", "CREATED", "DURATION", "LINK",
    ];
    columns(&head, &cells, 2)
}

/// Rows under a head, each column as wide as its widest cell and `gap` spaces apart, the
/// last column unpadded: every table cirelay prints (build lists, insights, projects).
pub fn columns(head: &[&str], rows: &[Vec<String>], gap: usize) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cols: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cols.iter().zip(&widths).enumerate() {
            l.push_str(c);
            if i + 1 < cols.len() {
                let pad = w - c.chars().count() + gap;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(head);
    for row in rows {
        let cols: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&cols);
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, branch: &str, status: &str) -> Listed {
        Listed {
            provider: "codefresh",
            id: id.into(),
            number: None,
            pipeline: Some("acme/app".into()),
            branch: Some(branch.into()),
            commit: None,
            status: status.into(),
            result: "success",
            created_at: Some("2026-11-01T10:00:00Z".into()),
            finished_at: Some("2026-11-01T10:01:30Z".into()),
            duration_s: duration_s(Some("2026-11-01T10:00:00Z"), Some("2026-11-01T10:01:30Z")),
            url: Some(format!("https://g.codefresh.io/build/{id}")),
        }
    }

    #[test]
    fn json_keys_come_in_one_order_for_every_provider() {
        let json = serde_json::to_string(&row("b1", "main", "success")).unwrap();
        assert_eq!(
            json,
            r#"{"provider":"codefresh","id":"b1","number":null,"pipeline":"acme/app","branch":"main","commit":null,"status":"success","result":"success","created_at":"2026-11-01T10:00:00Z","finished_at":"2026-11-01T10:01:30Z","duration_s":90,"url":"https://g.codefresh.io/build/b1"}"#
        );
    }

    #[test]
    fn filters_and_table() {
        let f = Filter {
            branch: Some("main".into()),
            status: None,
            limit: 20,
        };
        assert!(f.keeps(&row("a", "main", "error")));
        assert!(!f.keeps(&row("b", "dev", "error")));
        let t = table(&[row("a", "main", "success"), row("bb", "dev", "error")]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("BUILD  PIPELINE  BRANCH  STATUS"),
            "{t}"
        );
        assert!(
            lines[2].starts_with("bb     acme/app  dev     error"),
            "{t}"
        );
        assert_eq!(duration_s(Some("2026-11-01T10:00:00Z"), None), None);
        assert_eq!(
            duration_s(Some("2026-11-01T10:00:10Z"), Some("2026-11-01T10:00:00Z")),
            None
        );
    }
}
