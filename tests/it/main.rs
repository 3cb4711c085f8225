//! The integration tests, as one binary: the real `cirelay` against fake vendor APIs on
//! 127.0.0.1, asserting the exact requests sent and the exit code. One binary means one
//! compile and link of the support code, and every case runs in the same parallel pool.

mod across;
mod circleci;
mod codefresh;
mod codefresh_cli;
mod codeship_v1;
mod codeship_v2;
mod contract;
mod fakes;
mod faults;
mod github;
mod gitlab;
mod listing;
mod openapi;
mod specs;
mod support;
