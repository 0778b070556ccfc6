//! LEB128 varints (7 bits a byte, low first, the high bit set on every
//! byte but the last), for the compact tables readers hold per job: the
//! report's front-coded ids, the packs' lengths ([`super::pack::SlotRuns`]).

/// Appends `n`.
pub fn put(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The varint at `*at` in `bytes`, moving `*at` past it (None: past the
/// end, or longer than a `usize`).
pub fn get(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut n = 0usize;
    for shift in (0..usize::BITS).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}
