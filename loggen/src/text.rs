//! Number and address formatting into a line, without allocation.

use crate::data::HEX;
use crate::random::Rand;

/// `"00" "01" … "99"`: two decimal digits per lookup.
pub(crate) const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

#[inline]
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i] = DIGIT_PAIRS[pair];
        buf[i + 1] = DIGIT_PAIRS[pair + 1];
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        buf[i] = DIGIT_PAIRS[pair];
        buf[i + 1] = DIGIT_PAIRS[pair + 1];
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    // ASCII digits: pushing them as chars needs no UTF-8 check (cheaper than `from_utf8`).
    out.reserve(buf.len() - i);
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

#[inline]
pub(crate) fn push_2(out: &mut String, n: u32) {
    out.push((b'0' + (n / 10 % 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

/// Milliseconds as seconds with three decimals (`616` → `0.616`).
#[inline]
pub(crate) fn push_secs3(out: &mut String, ms: u64) {
    push_u64(out, ms / 1000);
    out.push('.');
    let r = (ms % 1000) as u32;
    out.push((b'0' + (r / 100) as u8) as char);
    push_2(out, r);
}

/// Appends `ip` (host order) as dotted-quad text.
#[inline]
pub fn push_ip(out: &mut String, ip: u32) {
    out.reserve(15);
    push_octet(out, ip >> 24);
    out.push('.');
    push_octet(out, (ip >> 16) & 0xff);
    out.push('.');
    push_octet(out, (ip >> 8) & 0xff);
    out.push('.');
    push_octet(out, ip & 0xff);
}

/// `n` (at most 255) in decimal.
#[inline]
pub(crate) fn push_octet(out: &mut String, n: u32) {
    let digit = |d: u32| char::from(b'0' + (d % 10) as u8);
    if n >= 100 {
        out.push(digit(n / 100));
    }
    if n >= 10 {
        out.push(digit(n / 10));
    }
    out.push(digit(n));
}

/// `n` lowercase hex digits (at most 16) of `v`.
#[inline]
pub(crate) fn push_hex(out: &mut String, v: u64, n: u32) {
    out.reserve(n as usize);
    for k in (0..n).rev() {
        out.push(HEX[((v >> (4 * k)) & 0xf) as usize] as char);
    }
}

/// 17 digits after `0.` like JavaScript's `Math.random()` in the sample's `r=` parameters.
#[inline]
pub(crate) fn push_js_random(out: &mut String, rng: &mut Rand) {
    out.push_str("0.");
    let v = rng.u64() % 100_000_000_000_000_000;
    let mut buf = [b'0'; 17];
    let mut x = v;
    for b in buf.iter_mut().rev() {
        *b = b'0' + (x % 10) as u8;
        x /= 10;
    }
    out.extend(buf.iter().map(|&b| char::from(b)));
}
