//! `--timeout`/`--interval`/`--request-timeout` values and the `CIRELAY_*` defaults.
//! Properties: no input panics; `N<unit>` means N units exactly, or is refused when that
//! does not fit; whatever parses reads back the same written in milliseconds and can be
//! added to the clock as a deadline.
#![no_main]

use std::time::Duration;

use cirelay::cli::{parse_duration, parse_duration_with_unit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u64, u64)| {
    let (raw, n, bare_unit) = input;

    if let Ok(d) = parse_duration(raw) {
        let millis = u64::try_from(d.as_millis()).expect("parsed from whole milliseconds");
        assert_eq!(parse_duration(&format!("{millis}ms")), Ok(d), "{raw:?}");
        assert_eq!(d.subsec_nanos() % 1_000_000, 0, "{raw:?}");
        // A --timeout becomes a deadline.
        assert!(
            std::time::Instant::now().checked_add(d).is_some(),
            "{raw:?}"
        );
    }
    let _ = parse_duration_with_unit(raw, 60);
    let _ = parse_duration_with_unit(raw, bare_unit);

    for (unit, millis_per) in [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)] {
        let expected = n.checked_mul(millis_per).map(Duration::from_millis);
        let got = parse_duration(&format!("{n}{unit}")).ok();
        assert_eq!(got, expected, "{n}{unit}");
        // Users write spaces around values in env files.
        assert_eq!(parse_duration(&format!(" {n}{unit}\n")).ok(), expected);
    }
    let expected = bare_unit
        .checked_mul(1000)
        .and_then(|per| n.checked_mul(per))
        .map(Duration::from_millis);
    assert_eq!(
        parse_duration_with_unit(&n.to_string(), bare_unit).ok(),
        expected,
        "{n} with a bare unit of {bare_unit}s"
    );
});
