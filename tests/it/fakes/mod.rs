//! Each provider's fake vendor API: a stateful server on 127.0.0.1 that behaves like the
//! real one for every request cirelay sends.

pub mod circleci;
pub mod codefresh;
pub mod codeship_v1;
pub mod codeship_v2;
