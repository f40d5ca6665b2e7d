//! Minimal BER-TLV reading and writing for PIV (one- or two-byte tags, lengths up to 65535).

/// Appends a BER length (short form, `81 xx` or `82 xx xx`).
#[cfg_attr(not(feature = "virtual-card"), allow(dead_code))]
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xff {
        out.push(0x81);
        out.push(len as u8);
    } else {
        out.push(0x82);
        out.push((len >> 8) as u8);
        out.push(len as u8);
    }
}

/// A TLV with a tag of one or two bytes (two when given as a `u16` above 0xff).
#[cfg_attr(not(feature = "virtual-card"), allow(dead_code))]
pub(crate) fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 5);
    if tag > 0xff {
        out.push((tag >> 8) as u8);
    }
    out.push(tag as u8);
    push_len(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

/// Reads one TLV with a single-byte tag: `(tag, value, rest)`, or `None` if malformed.
pub(crate) fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => {
            let (&n, rest) = rest.split_first()?;
            (usize::from(n), rest)
        }
        0x82 => {
            if rest.len() < 2 {
                return None;
            }
            (
                (usize::from(rest[0]) << 8) | usize::from(rest[1]),
                &rest[2..],
            )
        }
        _ => return None,
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// All TLVs of `input` (single-byte tags), or `None` if any is malformed.
pub(crate) fn read_all(mut input: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (tag, value, rest) = read(input)?;
        out.push((tag, value));
        input = rest;
    }
    Some(out)
}

/// The value of the first TLV with `tag` in `input`.
pub(crate) fn find(input: &[u8], tag: u8) -> Option<&[u8]> {
    read_all(input)?
        .into_iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn roundtrip_lengths() {
        for len in [0usize, 5, 127, 128, 255, 256, 1000] {
            let v = vec![7u8; len];
            let enc = tlv(0x53, &v);
            let (tag, value, rest) = read(&enc).unwrap();
            assert_eq!((tag, value, rest.len()), (0x53, v.as_slice(), 0));
        }
        assert_eq!(tlv(0x7f49, &[1]), vec![0x7f, 0x49, 1, 1]);
        assert!(read(&[0x53, 0x05, 1]).is_none());
        assert!(read(&[0x53, 0x83, 0, 0, 1]).is_none());
        assert_eq!(find(&[1, 1, 9, 2, 2, 3, 4], 2), Some(&[3u8, 4][..]));
    }
}
