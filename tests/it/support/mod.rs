//! What every suite shares, and the fake CI binary too: a fake HTTP API on 127.0.0.1 that
//! records every request and lets a test inject faults, a runner for the real `cirelay`
//! binary (also under its multi-call names) with a clean environment, a CONNECT proxy, and
//! temporary folders that go away with the test.

mod proxy;
mod run;
mod server;
mod temp;

pub use proxy::Proxy;
pub use run::{called_as, cirelay, is_error_line, largest_child_rss_kib, Cli, Run};
pub use server::{percent_decode, FakeServer, Recorded, Reply};
pub use temp::{read, TempDir};
