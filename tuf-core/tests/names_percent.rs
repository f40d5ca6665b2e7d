//! Percent-encoding of role names in file names, both ways.

use tuf_core::name::{percent_decode_segment, percent_encode_segment};

#[test]
fn percent_segments_round_trip_and_malformed_escapes_are_refused() {
    for name in ["targets", "a/b", "team a", "..", "é/ü", "x%y"] {
        let enc = percent_encode_segment(name);
        assert!(!enc.contains('/'), "{enc}");
        assert_eq!(percent_decode_segment(&enc).as_deref(), Some(name));
    }
    assert_eq!(percent_decode_segment("a%2fb").as_deref(), Some("a/b"));
    for bad in ["%", "%2", "%zz", "%+1", "a%00b", "%ff"] {
        assert_eq!(percent_decode_segment(bad), None, "{bad}");
    }
}
