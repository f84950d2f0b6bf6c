//! Realistic imooc nginx access-log generator (replaces the old `LogDataProducer`).
//!
//! Lines have exactly the shape of the real imooc log (`shared/data/imooc/10000_access.log`):
//!
//! ```text
//! $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_host" "$http_referer" $args
//! "$http_user_agent" "$http_x_forwarded_for" $upstream_addr $upstream_status $upstream_response_time $request_time
//! ```
//!
//! What makes them realistic:
//! - course ids are Zipf-distributed (a few hot courses) per type: video, code, learn, article;
//! - the referer mix follows the sample (video ≈ 35 %, code ≈ 24 %, learn ≈ 7 % of the non-`-`
//!   referers, course/list pages, qadetail, u/<uid>, article ≈ 1 %, coding.imooc.com,
//!   m.imooc.com, search engines …) with the sample's variants (`/video/5915/0`,
//!   `?from=itblog`, `/learn/85/?src=360onebox`);
//! - requests follow the page that refers them (a video page posts `/course/ajaxmediauser/`,
//!   loads recommendations, the CDN serves `.mp4`…), visits come in bursts from one client;
//! - clients come from public IPv4 blocks with a heavy-hitter subset, and keep their browser;
//! - internal traffic (the load balancer's health checks from 10.100.0.1, internal services,
//!   office machines) and `-` referers (app API calls, chat, bots) come in configurable shares.
//!
//! The generator is deterministic for a seed and allocation-free per line once warm.

mod data;
#[cfg(test)]
mod tests;

use std::io;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeDelta};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

use data::{
    ALNUM, ANDROID_APP_UAS, API3, ApiArgs, CDN_UPSTREAMS, CHAT_UPSTREAM, CLIENT_PREFIXES,
    CODING_STATIC, CODING_UPSTREAMS, COURSE_LIST_CATS, CR_UPSTREAM, DESKTOP_UAS, HEX, IDE_UPSTREAM,
    IOS_APP_UAS, MOBILE_STATIC, MOBILE_WEB_UAS, MONTHS, SEARCH_WORDS, STATIC_UPSTREAM,
    UA_BAIDUSPIDER, UA_CURL, UA_GO, UA_GOOGLEBOT, UA_PYTHON, UA_WEBSOCKETS, WWW_STATIC,
    WWW_UPSTREAMS,
};

/// Offset of the imooc logs (+08:00, China Standard Time), in seconds.
const CST_SECS: i32 = 8 * 3600;

/// Number of distinct ids per course type (ids run 1..=N).
const VIDEO_IDS: usize = 14_000;
const CODE_IDS: usize = 9_000;
const LEARN_IDS: usize = 900;
const ARTICLE_IDS: usize = 12_000;
const CODING_CLASS_IDS: usize = 90;

/// Zipf exponents: a few hot courses, a long tail.
const COURSE_ZIPF_S: f64 = 0.9;
const LEARN_ZIPF_S: f64 = 1.0;

/// Client population: `HEAVY_USERS` heavy hitters (Zipf) take `HEAVY_SHARE` of the public
/// traffic, the rest comes uniformly from `NORMAL_USERS` other clients.
const HEAVY_USERS: usize = 2_000;
const HEAVY_SHARE: f64 = 0.15;
const HEAVY_ZIPF_S: f64 = 1.0;
const NORMAL_USERS: u32 = 400_000;

/// Probability that a page-referred line continues the previous visit (same client, same page).
const VISIT_CONTINUE: f64 = 0.55;
/// Share of internal lines that are load-balancer health checks or internal service calls
/// (both always have referer `-`); the rest are office machines browsing the site.
const INTERNAL_HEALTH: u32 = 60;
const INTERNAL_SERVICE: u32 = 10;
const INTERNAL_FIXED_DASH: f64 = (INTERNAL_HEALTH + INTERNAL_SERVICE) as f64 / 100.0;
/// Share of lines that arrive late when `max_disorder_ms > 0`.
const LATE_SHARE: f64 = 0.2;

/// Configuration of a [`LogGenerator`].
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// Seed: the same seed and configuration give the same lines.
    pub seed: u64,
    /// Event time of the first line (default 2016-11-10T00:00:00+08:00); its offset is the
    /// offset written into the lines.
    pub start: DateTime<FixedOffset>,
    /// Event-time density: timestamps advance by `1 / events_per_second` seconds per line on
    /// average (default: one million lines spread over one day, as [`GeneratorConfig::for_day`]).
    pub events_per_second: f64,
    /// Lines may carry an event time up to this much earlier than the largest event time
    /// emitted so far (0 = in order). About a fifth of the lines are late when it is set.
    pub max_disorder_ms: u64,
    /// Share of lines from internal IPs (10.x, 192.168.x, 172.16-31.x, 127.0.0.1), default 0.03.
    pub internal_ip_share: f64,
    /// Share of lines whose referer is `-` (API calls, chat, bots), default 0.55.
    pub dash_url_share: f64,
}

impl GeneratorConfig {
    /// One day of logs in +08:00: `lines` lines spread evenly over `day`, in order.
    /// The first `lines` lines all fall within that day.
    pub fn for_day(seed: u64, day: NaiveDate, lines: u64) -> Self {
        let events_per_second = if lines == 0 {
            1.0
        } else {
            lines as f64 / 86_400.0
        };
        Self {
            seed,
            start: local_midnight(day, cst()),
            events_per_second,
            max_disorder_ms: 0,
            internal_ip_share: 0.03,
            dash_url_share: 0.55,
        }
    }
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        let day = NaiveDate::from_ymd_opt(2016, 11, 10).unwrap_or_default();
        Self::for_day(42, day, 1_000_000)
    }
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(CST_SECS).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"))
}

fn local_midnight(day: NaiveDate, offset: FixedOffset) -> DateTime<FixedOffset> {
    let utc =
        day.and_time(NaiveTime::MIN) - TimeDelta::seconds(i64::from(offset.local_minus_utc()));
    DateTime::from_naive_utc_and_offset(utc, offset)
}

/// Ten fixed real lines from the imooc sample (for `sluice produce --mode test`): video
/// (also the `/video/<id>/0` variant), code, learn (also `?src=360onebox`), article
/// (`?from=itblog`), other hosts (coding.imooc.com, m.imooc.com), `-` referers and an
/// internal IP.
pub const TEST_LINES: [&str; 10] = [
    r#"117.35.88.11 - - [10/Nov/2016:00:01:02 +0800] "GET /article/ajaxcourserecommends?id=124 HTTP/1.1" 200 2345 "www.imooc.com" "http://www.imooc.com/code/1852" - "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36" "-" 10.100.136.65:80 200 0.616 0.616"#,
    r#"113.140.11.123 - - [10/Nov/2016:00:01:02 +0800] "POST /course/ajaxmediauser/ HTTP/1.1" 200 54 "www.imooc.com" "http://www.imooc.com/video/5915/0" mid=5915&time=60.01200000000006&learn_time=284.9 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36 Edge/14.14393" "-" 10.100.134.244:80 200 0.029 0.029"#,
    r#"183.162.52.7 - - [10/Nov/2016:00:01:02 +0800] "POST /api3/getadv HTTP/1.1" 200 813 "www.imooc.com" "-" cid=0&timestamp=1478707261865&uid=2871142&marking=androidbanner&secrect=a6e8e14701ffe9f6063934780d9e2e6d&token=f51e97d1cb1a9caac669ea8acc162b96 "mukewang/5.0.0 (Android 5.1.1; Xiaomi Redmi 3 Build/LMY47V),Network 2G/3G" "-" 10.100.134.244:80 200 0.027 0.027"#,
    r#"10.100.0.1 - - [10/Nov/2016:00:01:02 +0800] "HEAD / HTTP/1.1" 301 0 "117.121.101.40" "-" - "curl/7.19.7 (x86_64-redhat-linux-gnu) libcurl/7.19.7 NSS/3.16.2.3 Basic ECC zlib/1.2.3 libidn/1.18 libssh2/1.4.2" "-" - - - 0.000"#,
    r#"101.200.101.201 - - [10/Nov/2016:00:01:03 +0800] "GET /static/img/common/logo.png?t=1478707261014 HTTP/1.1" 200 4468 "static.mukewang.com" "http://www.imooc.com/article/4779?from=itblog" - "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36" "219.136.60.213" 10.100.15.240:80 200 0.002 0.002"#,
    r#"222.131.22.52 - - [10/Nov/2016:00:01:05 +0800] "GET /course/AjaxCourseMembers?ids=124 HTTP/1.1" 200 85 "www.imooc.com" "http://www.imooc.com/learn/124" - "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/45.0.2454.101 Safari/537.36" "-" 10.100.136.64:80 200 0.172 0.172"#,
    r#"14.154.180.16 - - [10/Nov/2016:00:01:06 +0800] "POST /course/ajaxmediauser/ HTTP/1.1" 200 54 "www.imooc.com" "http://www.imooc.com/video/9886" mid=9886&time=120.00399999999999&learn_time=446.4 "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36" "-" 10.100.136.64:80 200 0.272 0.272"#,
    r#"49.52.99.46 - - [10/Nov/2016:00:01:09 +0800] "POST /course/ajaxmediauser/ HTTP/1.1" 200 54 "m.imooc.com" "http://m.imooc.com/video/2168" mid=2168&time=136056.193&learn_time=5.4 "Mozilla/5.0 (Linux; Android 4.0.4; Galaxy Nexus Build/IMM76B) AppleWebKit/535.19 (KHTML, like Gecko) Chrome/18.0.1025.133 Mobile Safari/535.19" "-" 10.100.136.65:80 200 0.017 0.017"#,
    r#"115.34.187.133 - - [10/Nov/2016:00:01:35 +0800] "GET /static/component/logic/login/tpl/erweima.js?v=201611082232 HTTP/1.1" 200 1239 "www.imooc.com" "http://www.imooc.com/learn/85/?src=360onebox" - "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/45.0.2454.101 Safari/537.36" "-" 10.100.136.65:80 200 0.001 0.001"#,
    r#"223.73.113.60 - - [10/Nov/2016:00:01:41 +0800] "GET /static/lib/util/autocomplete.js?v=201610270060 HTTP/1.1" 200 8853 "coding.imooc.com" "http://coding.imooc.com/" - "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12) AppleWebKit/602.1.50 (KHTML, like Gecko) Maxthon/4.5.3" "-" 10.100.135.25:80 200 0.002 0.002"#,
];

// ---------------------------------------------------------------------------------------------
// Small helpers: random numbers, hashing, weighted choice, number formatting.

/// The generator's random source (xoshiro via `SmallRng`) with the few draws it needs.
struct Rand(SmallRng);

impl Rand {
    #[inline]
    fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    #[inline]
    fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.0.next_u32()) * u64::from(n)) >> 32) as u32
    }
    /// Uniform in `lo..=hi`.
    #[inline]
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }
    /// Uniform in `[0, 1)`.
    #[inline]
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    #[inline]
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Roughly standard normal (Irwin–Hall with four uniforms), bounded to ±3.5.
    #[inline]
    fn normalish(&mut self) -> f64 {
        let s = self.unit() + self.unit() + self.unit() + self.unit();
        (s - 2.0) * 1.732_050_807_568_877_2
    }
    /// Log-normal around `median` with shape `sigma`.
    #[inline]
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normalish()).exp()
    }
}

/// SplitMix64 finaliser: a stateless hash for per-client attributes.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Zipf over ranks 1..=n, mapped to ids through a seeded permutation (so the hot ids are not
/// simply 1, 2, 3 …).
struct Zipf {
    cdf: Vec<f64>,
    ids: Vec<u32>,
}

impl Zipf {
    fn new(n: usize, s: f64, rng: &mut Rand) -> Self {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n {
            acc += (k as f64).powf(-s);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        let mut ids: Vec<u32> = (1..=n as u32).collect();
        for i in (1..n).rev() {
            let j = rng.below(i as u32 + 1) as usize;
            ids.swap(i, j);
        }
        Self { cdf, ids }
    }

    #[inline]
    fn sample(&self, rng: &mut Rand) -> u32 {
        let u = rng.unit();
        let i = self
            .cdf
            .partition_point(|&c| c <= u)
            .min(self.ids.len() - 1);
        self.ids[i]
    }

    /// Index (rank - 1) instead of the mapped id.
    #[inline]
    fn sample_rank(&self, rng: &mut Rand) -> u32 {
        let u = rng.unit();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.ids.len() - 1) as u32
    }
}

/// Weighted choice among a few items.
struct Picker<T: Copy> {
    cum: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy> Picker<T> {
    fn new(weighted: &[(u32, T)]) -> Self {
        let mut cum = Vec::with_capacity(weighted.len());
        let mut items = Vec::with_capacity(weighted.len());
        let mut acc = 0;
        for &(w, item) in weighted {
            if w > 0 {
                acc += w;
                cum.push(acc);
                items.push(item);
            }
        }
        assert!(acc > 0, "a picker needs a positive weight");
        Self { cum, items }
    }

    #[inline]
    fn pick(&self, rng: &mut Rand) -> T {
        let total = self.cum[self.cum.len() - 1];
        let x = rng.below(total);
        let i = self.cum.partition_point(|&c| c <= x);
        self.items[i]
    }
}

/// `"00" "01" … "99"`: two decimal digits per lookup.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

#[inline]
fn push_u64(out: &mut String, mut n: u64) {
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
fn push_2(out: &mut String, n: u32) {
    out.push((b'0' + (n / 10 % 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

/// Milliseconds as seconds with three decimals (`616` → `0.616`).
#[inline]
fn push_secs3(out: &mut String, ms: u64) {
    push_u64(out, ms / 1000);
    out.push('.');
    let r = (ms % 1000) as u32;
    out.push((b'0' + (r / 100) as u8) as char);
    push_2(out, r);
}

/// Appends `ip` (host order) as dotted-quad text.
#[inline]
pub(crate) fn push_ip(out: &mut String, ip: u32) {
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
fn push_octet(out: &mut String, n: u32) {
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
fn push_hex(out: &mut String, v: u64, n: u32) {
    out.reserve(n as usize);
    for k in (0..n).rev() {
        out.push(HEX[((v >> (4 * k)) & 0xf) as usize] as char);
    }
}

/// 17 digits after `0.` like JavaScript's `Math.random()` in the sample's `r=` parameters.
#[inline]
fn push_js_random(out: &mut String, rng: &mut Rand) {
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

const fn ip4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// Whether an address is in the ranges the cleaning job drops (10/8, 172.16/12, 192.168/16,
/// 127/8, 0.0.0.0).
#[cfg(test)]
fn is_internal(ip: u32) -> bool {
    let a = ip >> 24;
    let b = (ip >> 16) & 0xff;
    a == 10 || a == 127 || (a == 172 && (16..32).contains(&b)) || (a == 192 && b == 168) || ip == 0
}

// ---------------------------------------------------------------------------------------------
// The model: pages (the referer), requests made from them, and what a client is.

/// The page a visit is on; it becomes the referer.
#[derive(Clone, Copy, Debug)]
enum Page {
    Video { id: u32, zero: bool },
    Code(u32),
    Learn { id: u32, src360: bool },
    Article { id: u32, itblog: bool },
    Home,
    CourseList(u8),
    ProgramDetail(u32),
    Program,
    Qadetail(u32),
    User { uid: u32, sub: u8 },
    Ceping(u32),
    WapWenda(u32),
    Comment(u32),
    Search(u8),
    StaticCss,
    Wenda,
    CodingLesson(u32),
    CodingClass(u32),
    CodingHome,
    CodingWap(u32),
    MobileVideo(u32),
    MobileLearn(u32),
    MobileArticle(u32),
    MobileUserCenter,
    Baidu,
    BaiduLink(u32),
    Jobbole(u32),
    SoCom(u32),
}

#[derive(Clone, Copy, Debug)]
enum PageKind {
    Video,
    Code,
    Learn,
    Article,
    Home,
    CourseList,
    ProgramDetail,
    Program,
    Qadetail,
    User,
    Ceping,
    WapWenda,
    Comment,
    Search,
    StaticCss,
    Wenda,
    CodingLesson,
    CodingClass,
    CodingHome,
    CodingWap,
    MobileVideo,
    MobileLearn,
    MobileArticle,
    MobileUserCenter,
    Baidu,
    BaiduLink,
    Jobbole,
    SoCom,
}

/// Which request table a page uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Video,
    Code,
    Learn,
    Article,
    Www,
    Coding,
    Mobile,
}

/// Which id an AJAX call takes from the page.
#[derive(Clone, Copy)]
enum IdOf {
    /// The course (learn id) the page belongs to.
    Course,
    /// The media (video/code id) of the page.
    Media,
}

#[derive(Clone, Copy)]
enum Suffix {
    None,
    ModeFlash,
    PageR,
}

/// A `www.imooc.com` AJAX endpoint: `METHOD prefix<id><suffix>`.
struct Ajax {
    method: &'static str,
    prefix: &'static str,
    id: IdOf,
    suffix: Suffix,
    median: f64,
}

const AJ_ARTICLE_RECOMMENDS: Ajax = Ajax {
    method: "GET",
    prefix: "/article/ajaxcourserecommends?id=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 2500.0,
};
const AJ_MAX_CHAPTER_QUES: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxmaxchaptermediaques?mid=",
    id: IdOf::Media,
    suffix: Suffix::None,
    median: 72.0,
};
const AJ_LAST_MEDIA_RECOM: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxlastmediarecom?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 4200.0,
};
const AJ_USER_MEDIAS_STATUS: Ajax = Ajax {
    method: "POST",
    prefix: "/course/ajaxusermediasstatus?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 600.0,
};
const AJ_PLAN_RECOM: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxplanrecom?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 74.0,
};
const AJ_MEDIA_INFO: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxmediainfo/?mid=",
    id: IdOf::Media,
    suffix: Suffix::ModeFlash,
    median: 305.0,
};
const AJ_COURSE_RECOM: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxcourserecom?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 4900.0,
};
const AJ_GET_COMMENT: Ajax = Ajax {
    method: "GET",
    prefix: "/course/getcomment?mid=",
    id: IdOf::Media,
    suffix: Suffix::PageR,
    median: 2300.0,
};
const AJ_WENDA_RECOMMENDS: Ajax = Ajax {
    method: "GET",
    prefix: "/wenda/ajaxcourserecommends?id=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 1400.0,
};
const AJ_MY_NOTE: Ajax = Ajax {
    method: "GET",
    prefix: "/course/mynote?mid=",
    id: IdOf::Media,
    suffix: Suffix::PageR,
    median: 16_000.0,
};
const AJ_OTHERS_CODE: Ajax = Ajax {
    method: "GET",
    prefix: "/course/otherscode?mid=",
    id: IdOf::Media,
    suffix: Suffix::PageR,
    median: 3400.0,
};
const AJ_COURSE_MEMBERS: Ajax = Ajax {
    method: "GET",
    prefix: "/course/AjaxCourseMembers?ids=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 85.0,
};
const AJ_COURSE_LEARN: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxcourselearn?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 60.0,
};
const AJ_ARTICLE_SIMILAR: Ajax = Ajax {
    method: "GET",
    prefix: "/article/getsimilar?id=",
    id: IdOf::Media,
    suffix: Suffix::None,
    median: 1800.0,
};
const AJ_ARTICLE_UPVOTE: Ajax = Ajax {
    method: "GET",
    prefix: "/article/getupvoteusers?id=",
    id: IdOf::Media,
    suffix: Suffix::None,
    median: 400.0,
};

/// A request made from a page.
#[derive(Clone, Copy)]
enum Req {
    /// `POST /course/ajaxmediauser/` (video) or `/course/ajaxmediauser` (code) with progress args.
    MediaUser,
    /// GET of the page itself.
    PageSelf,
    UCard,
    ULoading,
    VisitLog,
    CollectVideo,
    CodeSubmit,
    SaveCode,
    Ajax(&'static Ajax),
    ArticleGetUser,
    /// A static file of the page's site (304 for a share of them).
    Static,
    /// `static.mukewang.com/static/img/common/logo.png?t=..` (via the static proxy, with XFF).
    Logo,
    /// The video CDN: `.mp4` ranges on v2.mukewang.com, `.ts` segments on szv1.mukewang.com.
    Cdn,
    /// coding.imooc.com's `POST /lesson/ajaxmediauser/`.
    LessonMediaUser,
    /// coding.imooc.com's other dynamic pages.
    CodingAjax,
    /// cr.fw.imooc.com's `GET /run/viewresult`.
    RunViewResult,
}

/// Kinds of lines without a referer.
#[derive(Clone, Copy)]
enum DashKind {
    Api,
    Chat,
    WsUpgrade,
    Favicon,
    Baiduspider,
    Googlebot,
    CdnScraper,
    Direct,
    IdeWs,
    Image,
}

/// Where an upstream field set comes from.
#[derive(Clone, Copy)]
enum Upstream {
    /// Answered by nginx itself: `- - -`.
    None,
    Addr(&'static str),
}

#[derive(Clone, Copy)]
enum Xff {
    None,
    One(u32),
    Two(u32, u32),
}

/// The scalar fields of one line; the variable-length ones live in the generator's buffers.
#[derive(Clone, Copy)]
struct Fields {
    ip: u32,
    method: &'static str,
    proto: &'static str,
    status: u16,
    bytes: u64,
    host: &'static str,
    ua: &'static str,
    xff: Xff,
    upstream: Upstream,
    upstream_ms: u64,
    request_ms: u64,
}

/// A client: index into the population, from which IP and browser follow.
#[derive(Clone, Copy)]
struct Client {
    key: u64,
    ip: u32,
}

#[derive(Clone, Copy)]
struct Visit {
    client: Client,
    page: Page,
}

/// What `jobs/clean.sql` reads from one generated line, without the line being written
/// (see [`LogGenerator::next_event`]). Writing the line and parsing it back gives exactly these
/// values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEvent<'a> {
    /// `$remote_addr` (host order).
    pub ip: u32,
    /// The event time as the line writes it: whole seconds since the Unix epoch.
    pub epoch_secs: i64,
    /// `$body_bytes_sent`.
    pub bytes: u64,
    /// `$http_referer` as written (`-` when there is none).
    pub referer: &'a str,
}

/// The line generator. See the module documentation.
pub struct LogGenerator {
    cfg: GeneratorConfig,
    rng: Rand,
    salt: u64,
    // Event time.
    start_ns: i64,
    step_ns: f64,
    disorder_ns: i64,
    offset_secs: i64,
    index: u64,
    last_ns: i64,
    max_ns: i64,
    cached_day: i64,
    date_prefix: String,
    tz_suffix: String,
    // Probabilities.
    p_dash_other: f64,
    // Distributions.
    video: Zipf,
    code: Zipf,
    learn: Zipf,
    article: Zipf,
    coding_class: Zipf,
    heavy: Zipf,
    pages: Picker<PageKind>,
    dash: Picker<DashKind>,
    api: Picker<usize>,
    req_video: Picker<Req>,
    req_code: Picker<Req>,
    req_learn: Picker<Req>,
    req_article: Picker<Req>,
    req_www: Picker<Req>,
    req_coding: Picker<Req>,
    req_mobile: Picker<Req>,
    // The current visit (bursts of requests from one page).
    visit: Option<Visit>,
    // Per-line buffers.
    path: String,
    referer: String,
    args: String,
    chunk: String,
}

impl LogGenerator {
    /// A generator for `cfg`; deterministic for `cfg.seed`.
    pub fn new(cfg: GeneratorConfig) -> Self {
        let mut rng = Rand(SmallRng::seed_from_u64(cfg.seed));
        let salt = mix64(cfg.seed ^ 0x5EED_1A5C_0FFE_E000);
        let video = Zipf::new(VIDEO_IDS, COURSE_ZIPF_S, &mut rng);
        let code = Zipf::new(CODE_IDS, COURSE_ZIPF_S, &mut rng);
        let learn = Zipf::new(LEARN_IDS, LEARN_ZIPF_S, &mut rng);
        let article = Zipf::new(ARTICLE_IDS, COURSE_ZIPF_S, &mut rng);
        let coding_class = Zipf::new(CODING_CLASS_IDS, LEARN_ZIPF_S, &mut rng);
        let heavy = Zipf::new(HEAVY_USERS, HEAVY_ZIPF_S, &mut rng);

        let offset_secs = i64::from(cfg.start.offset().local_minus_utc());
        let start_ns = cfg
            .start
            .timestamp_nanos_opt()
            .unwrap_or_else(|| cfg.start.timestamp().saturating_mul(1_000_000_000));
        let eps = if cfg.events_per_second.is_finite() && cfg.events_per_second > 0.0 {
            cfg.events_per_second
        } else {
            1.0
        };
        let step_ns = 1e9 / eps;
        let disorder_ns = i64::try_from(cfg.max_disorder_ms.min(u64::MAX / 2_000_000))
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000);
        let tz_suffix = {
            let off = offset_secs;
            let sign = if off < 0 { '-' } else { '+' };
            let a = off.unsigned_abs();
            let mut s = String::with_capacity(8);
            s.push(' ');
            s.push(sign);
            push_2(&mut s, (a / 3600) as u32);
            push_2(&mut s, (a % 3600 / 60) as u32);
            s.push(']');
            s
        };

        let internal = cfg.internal_ip_share.clamp(0.0, 1.0);
        let fixed = internal * INTERNAL_FIXED_DASH;
        let p_dash_other = if fixed >= 1.0 {
            0.0
        } else {
            ((cfg.dash_url_share.clamp(0.0, 1.0) - fixed) / (1.0 - fixed)).clamp(0.0, 1.0)
        };

        use PageKind as K;
        // Weights in tenths of a percent of the non-`-` referers, after the sample.
        let pages = Picker::new(&[
            (355, K::Video),
            (243, K::Code),
            (72, K::Learn),
            (10, K::Article),
            (56, K::Home),
            (15, K::CourseList),
            (33, K::ProgramDetail),
            (6, K::Program),
            (39, K::Qadetail),
            (9, K::User),
            (7, K::Ceping),
            (11, K::WapWenda),
            (3, K::Comment),
            (2, K::Search),
            (7, K::StaticCss),
            (2, K::Wenda),
            (45, K::CodingLesson),
            (12, K::CodingClass),
            (18, K::CodingHome),
            (15, K::CodingWap),
            (8, K::MobileVideo),
            (5, K::MobileLearn),
            (5, K::MobileArticle),
            (7, K::MobileUserCenter),
            (2, K::Baidu),
            (2, K::BaiduLink),
            (2, K::Jobbole),
            (1, K::SoCom),
        ]);
        let dash = Picker::new(&[
            (520, DashKind::Api),
            (150, DashKind::Chat),
            (25, DashKind::WsUpgrade),
            (45, DashKind::Favicon),
            (50, DashKind::Baiduspider),
            (12, DashKind::Googlebot),
            (30, DashKind::CdnScraper),
            (140, DashKind::Direct),
            (10, DashKind::IdeWs),
            (18, DashKind::Image),
        ]);
        let api_weights: Vec<(u32, usize)> =
            API3.iter().enumerate().map(|(i, a)| (a.2, i)).collect();
        let api = Picker::new(&api_weights);
        let req_video = Picker::new(&[
            (600, Req::MediaUser),
            (50, Req::PageSelf),
            (40, Req::UCard),
            (30, Req::CollectVideo),
            (25, Req::ULoading),
            (20, Req::Ajax(&AJ_ARTICLE_RECOMMENDS)),
            (20, Req::Ajax(&AJ_MAX_CHAPTER_QUES)),
            (20, Req::Ajax(&AJ_LAST_MEDIA_RECOM)),
            (20, Req::Ajax(&AJ_USER_MEDIAS_STATUS)),
            (20, Req::Ajax(&AJ_PLAN_RECOM)),
            (20, Req::Ajax(&AJ_MEDIA_INFO)),
            (20, Req::Ajax(&AJ_COURSE_RECOM)),
            (20, Req::Ajax(&AJ_GET_COMMENT)),
            (20, Req::Ajax(&AJ_WENDA_RECOMMENDS)),
            (20, Req::VisitLog),
            (8, Req::Ajax(&AJ_MY_NOTE)),
            (25, Req::Static),
            (5, Req::Logo),
            (20, Req::Cdn),
        ]);
        let req_code = Picker::new(&[
            (570, Req::MediaUser),
            (50, Req::UCard),
            (40, Req::Ajax(&AJ_OTHERS_CODE)),
            (40, Req::CodeSubmit),
            (30, Req::Ajax(&AJ_USER_MEDIAS_STATUS)),
            (25, Req::Ajax(&AJ_ARTICLE_RECOMMENDS)),
            (25, Req::Ajax(&AJ_PLAN_RECOM)),
            (25, Req::ULoading),
            (25, Req::VisitLog),
            (25, Req::Ajax(&AJ_COURSE_RECOM)),
            (20, Req::Ajax(&AJ_MAX_CHAPTER_QUES)),
            (20, Req::Ajax(&AJ_WENDA_RECOMMENDS)),
            (20, Req::PageSelf),
            (20, Req::Ajax(&AJ_GET_COMMENT)),
            (15, Req::SaveCode),
            (10, Req::Ajax(&AJ_MY_NOTE)),
            (10, Req::RunViewResult),
            (30, Req::Static),
        ]);
        let req_learn = Picker::new(&[
            (90, Req::Ajax(&AJ_COURSE_MEMBERS)),
            (80, Req::Ajax(&AJ_COURSE_LEARN)),
            (80, Req::VisitLog),
            (80, Req::Ajax(&AJ_COURSE_RECOM)),
            (70, Req::Logo),
            (70, Req::Ajax(&AJ_PLAN_RECOM)),
            (70, Req::ULoading),
            (60, Req::UCard),
            (50, Req::Ajax(&AJ_USER_MEDIAS_STATUS)),
            (30, Req::PageSelf),
            (320, Req::Static),
        ]);
        let req_article = Picker::new(&[
            (60, Req::ArticleGetUser),
            (50, Req::Ajax(&AJ_ARTICLE_SIMILAR)),
            (40, Req::Ajax(&AJ_ARTICLE_UPVOTE)),
            (150, Req::Logo),
            (60, Req::VisitLog),
            (60, Req::UCard),
            (60, Req::ULoading),
            (50, Req::PageSelf),
            (470, Req::Static),
        ]);
        let req_www = Picker::new(&[
            (150, Req::VisitLog),
            (100, Req::ULoading),
            (100, Req::UCard),
            (80, Req::Logo),
            (450, Req::Static),
            (120, Req::PageSelf),
        ]);
        let req_coding = Picker::new(&[
            (250, Req::LessonMediaUser),
            (300, Req::CodingAjax),
            (300, Req::Static),
            (250, Req::Cdn),
        ]);
        let req_mobile = Picker::new(&[
            (450, Req::Static),
            (150, Req::VisitLog),
            (150, Req::PageSelf),
            (250, Req::MediaUser),
        ]);

        Self {
            salt,
            start_ns,
            step_ns,
            disorder_ns,
            offset_secs,
            index: 0,
            last_ns: start_ns,
            max_ns: start_ns,
            cached_day: i64::MIN,
            date_prefix: String::with_capacity(16),
            tz_suffix,
            p_dash_other,
            video,
            code,
            learn,
            article,
            coding_class,
            heavy,
            pages,
            dash,
            api,
            req_video,
            req_code,
            req_learn,
            req_article,
            req_www,
            req_coding,
            req_mobile,
            visit: None,
            path: String::with_capacity(256),
            referer: String::with_capacity(256),
            args: String::with_capacity(512),
            chunk: String::new(),
            cfg,
            rng,
        }
    }

    /// The configuration this generator runs with.
    pub fn config(&self) -> &GeneratorConfig {
        &self.cfg
    }

    /// Number of lines generated so far.
    pub fn lines_generated(&self) -> u64 {
        self.index
    }

    /// Event time of the most recently generated line (`start` before the first line).
    pub fn current_event_time(&self) -> DateTime<FixedOffset> {
        self.ns_to_time(self.last_ns)
    }

    /// Largest event time generated so far (`start` before the first line). Every later
    /// line is at least this minus `max_disorder_ms`.
    pub fn max_event_time(&self) -> DateTime<FixedOffset> {
        self.ns_to_time(self.max_ns)
    }

    fn ns_to_time(&self, ns: i64) -> DateTime<FixedOffset> {
        let secs = ns.div_euclid(1_000_000_000);
        let nanos = ns.rem_euclid(1_000_000_000) as u32;
        match DateTime::from_timestamp(secs, nanos) {
            Some(t) => t.with_timezone(self.cfg.start.offset()),
            None => self.cfg.start,
        }
    }

    /// Appends one line (without `'\n'`) to `out`.
    pub fn next_line(&mut self, out: &mut String) {
        let (ns, f) = self.next_fields();
        self.emit(out, ns, &f);
    }

    /// Makes the next line like [`LogGenerator::next_line`] (same random draws, so a generator
    /// gives the same sequence whichever of the two is called), but returns only what the
    /// cleaning job reads instead of writing the line.
    pub fn next_event(&mut self) -> LineEvent<'_> {
        let (ns, f) = self.next_fields();
        LineEvent {
            ip: f.ip,
            epoch_secs: ns.div_euclid(1_000_000_000),
            bytes: f.bytes,
            referer: if self.referer.is_empty() {
                "-"
            } else {
                &self.referer
            },
        }
    }

    /// The UTC offset written into the lines, in seconds (`+0800` → 28800).
    pub fn utc_offset_secs(&self) -> i64 {
        self.offset_secs
    }

    /// Event time and fields of the next line; the variable-length parts are left in the
    /// `path`, `referer` and `args` buffers.
    fn next_fields(&mut self) -> (i64, Fields) {
        let ns = self.next_time_ns();
        self.path.clear();
        self.referer.clear();
        self.args.clear();
        let f = if self.rng.chance(self.cfg.internal_ip_share) {
            self.internal_line(ns)
        } else if self.rng.chance(self.p_dash_other) {
            let client = self.pick_client();
            self.dash_line(ns, client)
        } else {
            let visit = match self.visit {
                Some(v) if self.rng.chance(VISIT_CONTINUE) => v,
                _ => {
                    let v = Visit {
                        client: self.pick_client(),
                        page: self.pick_page(),
                    };
                    self.visit = Some(v);
                    v
                }
            };
            self.page_line(ns, visit.client, visit.page)
        };
        (ns, f)
    }

    /// Writes `n` lines, each followed by `'\n'`, in large chunks; returns the bytes written.
    pub fn write_lines<W: io::Write>(&mut self, w: &mut W, n: u64) -> io::Result<u64> {
        const CHUNK: usize = 1 << 16;
        let mut chunk = std::mem::take(&mut self.chunk);
        chunk.clear();
        chunk.reserve(CHUNK + 4096);
        let mut written = 0u64;
        let mut result = Ok(());
        for _ in 0..n {
            self.next_line(&mut chunk);
            chunk.push('\n');
            if chunk.len() >= CHUNK {
                if let Err(e) = w.write_all(chunk.as_bytes()) {
                    result = Err(e);
                    break;
                }
                written += chunk.len() as u64;
                chunk.clear();
            }
        }
        if result.is_ok() && !chunk.is_empty() {
            result = w.write_all(chunk.as_bytes());
            if result.is_ok() {
                written += chunk.len() as u64;
            }
        }
        chunk.clear();
        self.chunk = chunk;
        result.map(|()| written)
    }

    // -----------------------------------------------------------------------------------------
    // Time.

    fn next_time_ns(&mut self) -> i64 {
        let base = self
            .start_ns
            .saturating_add((self.index as f64 * self.step_ns) as i64);
        self.index += 1;
        let mut ns = base;
        if self.disorder_ns > 0 && self.rng.chance(LATE_SHARE) {
            let late = (self.rng.unit() * self.disorder_ns as f64) as i64;
            ns = (base - late)
                .max(self.start_ns)
                .max(self.max_ns - self.disorder_ns);
        }
        self.max_ns = self.max_ns.max(ns);
        self.last_ns = ns;
        ns
    }

    fn push_time(&mut self, out: &mut String, ns: i64) {
        let local = ns.div_euclid(1_000_000_000) + self.offset_secs;
        let day = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400) as u32;
        if day != self.cached_day {
            self.cached_day = day;
            self.date_prefix.clear();
            let date = i32::try_from(day + 719_163)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .unwrap_or_default();
            push_2(&mut self.date_prefix, date.day());
            self.date_prefix.push('/');
            self.date_prefix.push_str(MONTHS[date.month0() as usize]);
            self.date_prefix.push('/');
            push_u64(&mut self.date_prefix, date.year().max(0) as u64);
            self.date_prefix.push(':');
        }
        out.push('[');
        out.push_str(&self.date_prefix);
        push_2(out, sod / 3600);
        out.push(':');
        push_2(out, sod % 3600 / 60);
        out.push(':');
        push_2(out, sod % 60);
        out.push_str(&self.tz_suffix);
    }

    fn event_ms(ns: i64) -> u64 {
        ns.div_euclid(1_000_000).max(0) as u64
    }

    // -----------------------------------------------------------------------------------------
    // Clients.

    fn client(&self, key: u64) -> Client {
        Client {
            key,
            ip: public_ip(mix64(key ^ self.salt)),
        }
    }

    fn pick_client(&mut self) -> Client {
        let key = if self.rng.chance(HEAVY_SHARE) {
            u64::from(self.heavy.sample_rank(&mut self.rng))
        } else {
            HEAVY_USERS as u64 + u64::from(self.rng.below(NORMAL_USERS))
        };
        self.client(key)
    }

    /// Per-client attribute hash (stable: a client keeps its browser, app and user id).
    fn attr(&self, c: Client, what: u64) -> u64 {
        mix64(c.key ^ self.salt.rotate_left(17) ^ what.wrapping_mul(0xA24B_AED4_963E_E407))
    }

    fn browser_ua(&self, c: Client, mobile_site: bool) -> &'static str {
        let h = self.attr(c, 1);
        if mobile_site || h % 100 < 12 {
            MOBILE_WEB_UAS[((h >> 8) % MOBILE_WEB_UAS.len() as u64) as usize]
        } else {
            DESKTOP_UAS[((h >> 8) % DESKTOP_UAS.len() as u64) as usize]
        }
    }

    fn app_ua(&self, c: Client) -> &'static str {
        let h = self.attr(c, 2);
        if h & 3 == 0 {
            IOS_APP_UAS[((h >> 8) % IOS_APP_UAS.len() as u64) as usize]
        } else {
            ANDROID_APP_UAS[((h >> 8) % ANDROID_APP_UAS.len() as u64) as usize]
        }
    }

    fn imooc_uid(&self, c: Client) -> u64 {
        100_000 + self.attr(c, 3) % 4_400_000
    }

    // -----------------------------------------------------------------------------------------
    // Pages and referers.

    fn pick_page(&mut self) -> Page {
        let r = &mut self.rng;
        match self.pages.pick(r) {
            PageKind::Video => Page::Video {
                id: self.video.sample(r),
                zero: r.chance(0.05),
            },
            PageKind::Code => Page::Code(self.code.sample(r)),
            PageKind::Learn => Page::Learn {
                id: self.learn.sample(r),
                src360: r.chance(0.15),
            },
            PageKind::Article => Page::Article {
                id: self.article.sample(r),
                itblog: r.chance(0.3),
            },
            PageKind::Home => Page::Home,
            PageKind::CourseList => {
                Page::CourseList(r.below(COURSE_LIST_CATS.len() as u32 + 2) as u8)
            }
            PageKind::ProgramDetail => Page::ProgramDetail(r.range(1, 60)),
            PageKind::Program => Page::Program,
            PageKind::Qadetail => Page::Qadetail(r.range(10_000, 320_000)),
            PageKind::User => Page::User {
                uid: r.range(100_000, 4_500_000),
                sub: r.below(4) as u8,
            },
            PageKind::Ceping => Page::Ceping(r.range(1, 120)),
            PageKind::WapWenda => Page::WapWenda(r.range(100_000, 330_000)),
            PageKind::Comment => Page::Comment(self.learn.sample(r)),
            PageKind::Search => Page::Search(r.below(SEARCH_WORDS.len() as u32) as u8),
            PageKind::StaticCss => Page::StaticCss,
            PageKind::Wenda => Page::Wenda,
            PageKind::CodingLesson => Page::CodingLesson(self.coding_class.sample(r)),
            PageKind::CodingClass => Page::CodingClass(self.coding_class.sample(r)),
            PageKind::CodingHome => Page::CodingHome,
            PageKind::CodingWap => Page::CodingWap(self.coding_class.sample(r)),
            PageKind::MobileVideo => Page::MobileVideo(self.video.sample(r)),
            PageKind::MobileLearn => Page::MobileLearn(self.learn.sample(r)),
            PageKind::MobileArticle => Page::MobileArticle(self.article.sample(r)),
            PageKind::MobileUserCenter => Page::MobileUserCenter,
            PageKind::Baidu => Page::Baidu,
            PageKind::BaiduLink => Page::BaiduLink(r.below(u32::MAX)),
            PageKind::Jobbole => Page::Jobbole(r.range(100_000, 110_000)),
            PageKind::SoCom => Page::SoCom(self.learn.sample(r)),
        }
    }

    fn group(page: Page) -> Group {
        match page {
            Page::Video { .. } => Group::Video,
            Page::Code(_) => Group::Code,
            Page::Learn { .. } | Page::Comment(_) => Group::Learn,
            Page::Article { .. } => Group::Article,
            Page::CodingLesson(_)
            | Page::CodingClass(_)
            | Page::CodingHome
            | Page::CodingWap(_) => Group::Coding,
            Page::MobileVideo(_)
            | Page::MobileLearn(_)
            | Page::MobileArticle(_)
            | Page::MobileUserCenter => Group::Mobile,
            _ => Group::Www,
        }
    }

    /// The page's media id (video/code/article id) and course (learn) id.
    fn page_ids(&self, page: Page) -> (u32, u32) {
        let course_of = |media: u32, salt: u64| -> u32 {
            1 + (mix64(u64::from(media) ^ salt) % LEARN_IDS as u64) as u32
        };
        match page {
            Page::Video { id, .. } | Page::MobileVideo(id) => (id, course_of(id, self.salt)),
            Page::Code(id) => (id, course_of(id, self.salt ^ 1)),
            Page::Learn { id, .. }
            | Page::Comment(id)
            | Page::MobileLearn(id)
            | Page::SoCom(id) => (id, id),
            Page::Article { id, .. } | Page::MobileArticle(id) => {
                (id, course_of(id, self.salt ^ 2))
            }
            Page::CodingLesson(id) | Page::CodingClass(id) | Page::CodingWap(id) => (id, id),
            _ => (0, 0),
        }
    }

    fn write_referer(&mut self, page: Page) {
        let s = &mut self.referer;
        match page {
            Page::Video { id, zero } => {
                s.push_str("http://www.imooc.com/video/");
                push_u64(s, id.into());
                if zero {
                    s.push_str("/0");
                }
            }
            Page::Code(id) => {
                s.push_str("http://www.imooc.com/code/");
                push_u64(s, id.into());
            }
            Page::Learn { id, src360 } => {
                s.push_str("http://www.imooc.com/learn/");
                push_u64(s, id.into());
                if src360 {
                    s.push_str("/?src=360onebox");
                }
            }
            Page::Article { id, itblog } => {
                s.push_str("http://www.imooc.com/article/");
                push_u64(s, id.into());
                if itblog {
                    s.push_str("?from=itblog");
                }
            }
            Page::Home => s.push_str("http://www.imooc.com/"),
            Page::CourseList(c) => {
                s.push_str("http://www.imooc.com/course/list");
                if let Some(cat) = COURSE_LIST_CATS.get(usize::from(c)) {
                    s.push_str("?c=");
                    s.push_str(cat);
                }
            }
            Page::ProgramDetail(pid) => {
                s.push_str("http://www.imooc.com/course/programdetail/pid/");
                push_u64(s, pid.into());
            }
            Page::Program => s.push_str("http://www.imooc.com/course/program"),
            Page::Qadetail(id) => {
                s.push_str("http://www.imooc.com/qadetail/");
                push_u64(s, id.into());
            }
            Page::User { uid, sub } => {
                s.push_str("http://www.imooc.com/u/");
                push_u64(s, uid.into());
                s.push_str(match sub {
                    1 => "/articles",
                    2 => "/messages",
                    3 => "/courses",
                    _ => "",
                });
            }
            Page::Ceping(id) => {
                s.push_str("http://www.imooc.com/ceping/");
                push_u64(s, id.into());
            }
            Page::WapWenda(id) => {
                s.push_str("http://www.imooc.com/m/wap/wenda/detail.html?bbsid=");
                push_u64(s, id.into());
            }
            Page::Comment(id) => {
                s.push_str("http://www.imooc.com/comment/");
                push_u64(s, id.into());
            }
            Page::Search(w) => {
                s.push_str("http://www.imooc.com/search/?words=");
                s.push_str(SEARCH_WORDS[usize::from(w) % SEARCH_WORDS.len()]);
            }
            Page::StaticCss => s.push_str(
                "http://www.imooc.com/static/moco/v1.0/dist/css/moco.min.css?t=201611082232",
            ),
            Page::Wenda => s.push_str("http://www.imooc.com/wenda"),
            Page::CodingLesson(id) => {
                s.push_str("http://coding.imooc.com/lesson/");
                push_u64(s, id.into());
                s.push_str(".html");
            }
            Page::CodingClass(id) => {
                s.push_str("http://coding.imooc.com/class/");
                push_u64(s, id.into());
                s.push_str(".html");
            }
            Page::CodingHome => s.push_str("http://coding.imooc.com/"),
            Page::CodingWap(id) => {
                s.push_str("http://coding.imooc.com/wap/classindex/cid/");
                push_u64(s, id.into());
                s.push_str("?app=1");
            }
            Page::MobileVideo(id) => {
                s.push_str("http://m.imooc.com/video/");
                push_u64(s, id.into());
            }
            Page::MobileLearn(id) => {
                s.push_str("http://m.imooc.com/learn/");
                push_u64(s, id.into());
            }
            Page::MobileArticle(id) => {
                s.push_str("http://m.imooc.com/article/");
                push_u64(s, id.into());
                s.push_str("?from=itblog");
            }
            Page::MobileUserCenter => s.push_str("http://m.imooc.com/m/web/user/usercenter.html"),
            Page::Baidu => s.push_str("http://www.baidu.com"),
            Page::BaiduLink(h) => {
                s.push_str("https://www.baidu.com/link?url=");
                push_hex(s, mix64(u64::from(h)), 16);
                s.push_str("&wd=&eqid=");
                push_hex(s, mix64(u64::from(h) ^ 7), 16);
            }
            Page::Jobbole(id) => {
                s.push_str("http://blog.jobbole.com/");
                push_u64(s, id.into());
                s.push('/');
            }
            Page::SoCom(id) => {
                s.push_str("http://www.so.com/link?url=http%3A%2F%2Fwww.imooc.com%2Fview%2F");
                push_u64(s, id.into());
                s.push_str("%2F%3Fsrc%3D360onebox&q=java%E6%95%99%E7%A8%8B");
            }
        }
    }

    /// The page's own path (for `GET` of the page, e.g. a landing from a search engine).
    fn write_page_path(&mut self, page: Page) {
        let (media, course) = self.page_ids(page);
        let p = &mut self.path;
        match page {
            Page::Video { .. } | Page::MobileVideo(_) => {
                p.push_str("/video/");
                push_u64(p, media.into());
            }
            Page::Code(_) => {
                p.push_str("/code/");
                push_u64(p, media.into());
            }
            Page::Article { .. } | Page::MobileArticle(_) => {
                p.push_str("/article/");
                push_u64(p, media.into());
            }
            Page::Qadetail(id) => {
                p.push_str("/qadetail/");
                push_u64(p, id.into());
            }
            Page::ProgramDetail(pid) => {
                p.push_str("/course/programdetail/pid/");
                push_u64(p, pid.into());
            }
            Page::CourseList(_) | Page::Program => p.push_str("/course/list"),
            Page::Home | Page::Baidu | Page::BaiduLink(_) | Page::Jobbole(_) => p.push('/'),
            Page::MobileUserCenter => p.push_str("/m/web/user/usercenter.html"),
            Page::User { uid, .. } => {
                p.push_str("/u/");
                push_u64(p, uid.into());
                p.push_str("/courses");
            }
            _ if course > 0 => {
                p.push_str("/learn/");
                push_u64(p, course.into());
            }
            _ => p.push('/'),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Lines.

    fn base_fields(
        ip: u32,
        host: &'static str,
        ua: &'static str,
        upstream: &'static str,
    ) -> Fields {
        Fields {
            ip,
            method: "GET",
            proto: "HTTP/1.1",
            status: 200,
            bytes: 0,
            host,
            ua,
            xff: Xff::None,
            upstream: Upstream::Addr(upstream),
            upstream_ms: 1,
            request_ms: 1,
        }
    }

    fn www_upstream(&mut self) -> &'static str {
        WWW_UPSTREAMS[self.rng.below(WWW_UPSTREAMS.len() as u32) as usize]
    }

    /// Upstream latency of a dynamic request, in ms.
    fn dyn_ms(&mut self, median: f64) -> u64 {
        self.rng.lognormal(median, 1.0).clamp(1.0, 30_000.0) as u64
    }

    fn bytes(&mut self, median: f64, sigma: f64) -> u64 {
        self.rng.lognormal(median, sigma).clamp(1.0, 1_048_576.0) as u64
    }

    /// Sets `request_ms` from `upstream_ms` (usually equal, sometimes a little more).
    fn finish_timing(&mut self, f: &mut Fields) {
        f.request_ms = f.upstream_ms;
        if self.rng.chance(0.1) {
            f.request_ms += u64::from(self.rng.range(1, 60));
        }
    }

    /// Occasional errors on dynamic requests.
    fn maybe_error(&mut self, f: &mut Fields) {
        let x = self.rng.below(1000);
        if x < 4 {
            f.status = 404;
            f.bytes = 168;
        } else if x < 6 {
            f.status = 502;
            f.bytes = 166;
            f.upstream_ms = u64::from(self.rng.range(1, 3000));
        } else if x < 7 {
            f.status = 499;
            f.bytes = 0;
        } else if x < 10 {
            f.status = 302;
            f.bytes = 5;
        }
    }

    fn internal_line(&mut self, ns: i64) -> Fields {
        let k = self.rng.below(100);
        if k < INTERNAL_HEALTH {
            self.path.push('/');
            let mut f = Self::base_fields(ip4(10, 100, 0, 1), "117.121.101.40", UA_CURL, "");
            f.method = "HEAD";
            f.status = 301;
            f.upstream = Upstream::None;
            f.request_ms = 0;
            return f;
        }
        if k < INTERNAL_HEALTH + INTERNAL_SERVICE {
            let ip = if self.rng.chance(0.5) {
                ip4(10, 100, 135, 58)
            } else {
                ip4(10, 100, 135, 24)
            };
            self.path.push_str("/service/getcourseinfo");
            let up = self.www_upstream();
            let mut f = Self::base_fields(ip, "www.imooc.com", "-", up);
            f.method = "POST";
            f.proto = "HTTP/1.0";
            f.bytes = self.bytes(12_000.0, 0.3);
            f.upstream_ms = self.dyn_ms(60.0);
            self.finish_timing(&mut f);
            return f;
        }
        // An office machine or a developer box browsing the site.
        let r = self.rng.below(100);
        let ip = if r < 40 {
            ip4(
                192,
                168,
                self.rng.below(4) as u8,
                self.rng.range(2, 254) as u8,
            )
        } else if r < 75 {
            ip4(
                172,
                self.rng.range(16, 31) as u8,
                self.rng.below(256) as u8,
                self.rng.range(1, 254) as u8,
            )
        } else if r < 85 {
            ip4(127, 0, 0, 1)
        } else {
            ip4(
                10,
                self.rng.below(256) as u8,
                self.rng.below(256) as u8,
                self.rng.range(1, 254) as u8,
            )
        };
        let client = Client {
            key: u64::from(ip) | (1 << 40),
            ip,
        };
        // Keep the overall `-` share: internal health checks and services are `-` already.
        if self.rng.chance(self.p_dash_other) {
            self.direct_line(client)
        } else {
            let page = self.pick_page();
            self.page_line(ns, client, page)
        }
    }

    fn dash_line(&mut self, ns: i64, client: Client) -> Fields {
        match self.dash.pick(&mut self.rng) {
            DashKind::Api => self.api_line(ns, client),
            DashKind::Chat => {
                self.path.push_str("/socket.io/1/");
                let mut f =
                    Self::base_fields(client.ip, "chat.mukewang.com", UA_WEBSOCKETS, CHAT_UPSTREAM);
                f.method = "POST";
                f.bytes = 94;
                f.upstream_ms = u64::from(self.rng.range(2, 7));
                f.request_ms = f.upstream_ms;
                f
            }
            DashKind::WsUpgrade => {
                self.path.push_str("/socket.io/1/websocket/");
                for _ in 0..20 {
                    let c = ALNUM[self.rng.below(ALNUM.len() as u32) as usize];
                    self.path.push(c as char);
                }
                let mut f = Self::base_fields(client.ip, "chat.mukewang.com", "-", CHAT_UPSTREAM);
                f.status = 101;
                f.bytes = u64::from(self.rng.range(100, 130));
                f.upstream_ms = u64::from(self.rng.range(1_000, 300_000));
                f.request_ms = f.upstream_ms;
                f
            }
            DashKind::Favicon => {
                self.path.push_str("/favicon.ico");
                if self.rng.chance(0.75) {
                    let mut f =
                        Self::base_fields(client.ip, "chat.mukewang.com", UA_GO, CHAT_UPSTREAM);
                    f.method = "HEAD";
                    f.status = 404;
                    f.upstream_ms = u64::from(self.rng.range(1, 25));
                    f.request_ms = f.upstream_ms;
                    f
                } else {
                    let up = self.www_upstream();
                    let mut f = Self::base_fields(client.ip, "www.imooc.com", UA_GO, up);
                    f.method = "HEAD";
                    f.upstream_ms = 1;
                    f.request_ms = 1;
                    f
                }
            }
            DashKind::Baiduspider => self.bot_line(false),
            DashKind::Googlebot => self.bot_line(true),
            DashKind::CdnScraper => {
                self.push_cdn_mp4_path();
                let node = ip4(140, 205, 253, self.rng.range(100, 160) as u8);
                let up = CDN_UPSTREAMS[self.rng.below(3) as usize];
                let mut f = Self::base_fields(node, "v2.mukewang.com", UA_PYTHON, up);
                f.status = 206;
                f.bytes = 524_288;
                f.xff = Xff::One(client.ip);
                f.upstream_ms = u64::from(self.rng.range(10, 60));
                self.finish_timing(&mut f);
                f
            }
            DashKind::Direct => self.direct_line(client),
            DashKind::IdeWs => {
                self.path
                    .push_str("/watch/websocket/?EIO=3&transport=websocket");
                let ua = self.browser_ua(client, false);
                let mut f = Self::base_fields(client.ip, "ide.ws.imooc.io", ua, IDE_UPSTREAM);
                f.status = 400;
                f.bytes = 45;
                f.upstream_ms = u64::from(self.rng.range(2, 6));
                f.request_ms = f.upstream_ms;
                f
            }
            DashKind::Image => {
                self.path.push('/');
                push_hex(&mut self.path, self.rng.u64(), 16);
                self.path.push_str("-240-135.jpg");
                let ua = self.browser_ua(client, false);
                let mut f = Self::base_fields(client.ip, "img.imooc.com", ua, "10.100.15.240:80");
                if self.rng.chance(0.4) {
                    f.status = 304;
                } else {
                    f.bytes = self.bytes(9_000.0, 0.5);
                }
                f.upstream_ms = u64::from(self.rng.range(1, 4));
                f.request_ms = f.upstream_ms;
                f
            }
        }
    }

    /// A page loaded without a referer (typed URL, bookmark, app webview).
    fn direct_line(&mut self, client: Client) -> Fields {
        let page = match self.rng.below(10) {
            0..=3 => Page::Video {
                id: self.video.sample(&mut self.rng),
                zero: false,
            },
            4..=5 => Page::Learn {
                id: self.learn.sample(&mut self.rng),
                src360: false,
            },
            6 => Page::Code(self.code.sample(&mut self.rng)),
            7 => Page::Article {
                id: self.article.sample(&mut self.rng),
                itblog: false,
            },
            8 => Page::CourseList(0),
            _ => Page::Home,
        };
        self.write_page_path(page);
        let ua = self.browser_ua(client, false);
        let up = self.www_upstream();
        let mut f = Self::base_fields(client.ip, "www.imooc.com", ua, up);
        f.bytes = self.bytes(9_000.0, 0.25);
        f.upstream_ms = self.dyn_ms(150.0);
        self.maybe_error(&mut f);
        self.finish_timing(&mut f);
        f
    }

    fn bot_line(&mut self, google: bool) -> Fields {
        let (ip, ua) = if google {
            (
                ip4(
                    66,
                    249,
                    self.rng.range(64, 79) as u8,
                    self.rng.range(1, 254) as u8,
                ),
                UA_GOOGLEBOT,
            )
        } else if self.rng.chance(0.6) {
            (
                ip4(220, 181, 108, self.rng.range(70, 190) as u8),
                UA_BAIDUSPIDER,
            )
        } else {
            (
                ip4(123, 125, 71, self.rng.range(10, 120) as u8),
                UA_BAIDUSPIDER,
            )
        };
        let mobile = self.rng.chance(0.5);
        let p = &mut self.path;
        match self.rng.below(4) {
            0 => {
                p.push_str("/u/");
                push_u64(p, u64::from(self.rng.range(100_000, 4_500_000)));
                p.push_str("/course/");
                push_u64(p, u64::from(self.learn.sample(&mut self.rng)));
                p.push_str("/codes");
            }
            1 => {
                p.push_str("/u/");
                push_u64(p, u64::from(self.rng.range(100_000, 4_500_000)));
                p.push_str("/courses?sort=time&skill_id=");
                push_u64(p, u64::from(self.rng.range(1, 80)));
            }
            2 => {
                p.push_str("/learn/");
                push_u64(p, u64::from(self.learn.sample(&mut self.rng)));
            }
            _ => {
                p.push_str("/wenda/detail/");
                push_u64(p, u64::from(self.rng.range(100_000, 330_000)));
            }
        }
        let up = self.www_upstream();
        let host = if mobile {
            "m.imooc.com"
        } else {
            "www.imooc.com"
        };
        let mut f = Self::base_fields(ip, host, ua, up);
        f.bytes = self.bytes(6_500.0, 0.3);
        f.upstream_ms = self.dyn_ms(120.0);
        if self.rng.chance(0.05) {
            f.status = 404;
            f.bytes = 48;
        }
        self.finish_timing(&mut f);
        f
    }

    fn push_secret(&mut self, client: Client, what: u64) {
        let a = self.attr(client, what);
        let b = self.attr(client, what + 1);
        push_hex(&mut self.args, a, 16);
        push_hex(&mut self.args, b, 16);
    }

    fn push_token(&mut self) {
        let a = self.rng.u64();
        let b = self.rng.u64();
        push_hex(&mut self.args, a, 16);
        push_hex(&mut self.args, b, 16);
    }

    fn api_line(&mut self, ns: i64, client: Client) -> Fields {
        let (name, style, _, median) = API3[self.api.pick(&mut self.rng)];
        self.path.push_str("/api3/");
        self.path.push_str(name);
        let ts = (Self::event_ms(ns) + u64::from(self.rng.below(1000))).saturating_sub(500);
        let uid = self.imooc_uid(client);
        let cid = if self.rng.chance(0.7) {
            0
        } else {
            self.learn.sample(&mut self.rng)
        };
        match style {
            ApiArgs::Plain | ApiArgs::Uuid | ApiArgs::Adv => {
                self.args.push_str("cid=");
                push_u64(&mut self.args, cid.into());
                self.args.push_str("&timestamp=");
                push_u64(&mut self.args, ts);
                self.args.push_str("&uid=");
                push_u64(&mut self.args, uid);
                if let ApiArgs::Adv = style {
                    self.args.push_str("&marking=androidbanner");
                }
                self.args.push_str("&secrect=");
                self.push_secret(client, 10);
                if let ApiArgs::Uuid = style {
                    self.args.push_str("&uuid=");
                    self.push_secret(client, 20);
                }
                self.args.push_str("&token=");
                self.push_token();
            }
            ApiArgs::UuidFirst => {
                self.args.push_str("timestamp=");
                push_u64(&mut self.args, ts);
                self.args.push_str("&uid=");
                push_u64(&mut self.args, uid);
                self.args.push_str("&secrect=");
                self.push_secret(client, 10);
                self.args.push_str("&uuid=");
                self.push_secret(client, 20);
                self.args.push_str("&cid=");
                push_u64(&mut self.args, cid.into());
                self.args.push_str("&token=");
                self.push_token();
            }
            ApiArgs::MediaFinish => {
                let mid = self.video.sample(&mut self.rng);
                let offline = self.rng.below(2);
                let time = self.rng.below(600);
                let stay = self.rng.below(400);
                self.args.push_str("is_offline=");
                push_u64(&mut self.args, offline.into());
                self.args.push_str("&time=");
                push_u64(&mut self.args, time.into());
                self.args.push_str("&mid=");
                push_u64(&mut self.args, mid.into());
                self.args.push_str("&secrect=");
                self.push_secret(client, 10);
                self.args.push_str("&cid=0&plat_id=5&timestamp=");
                push_u64(&mut self.args, ts);
                self.args.push_str("&uid=");
                push_u64(&mut self.args, uid);
                self.args.push_str("&stay_time=");
                push_u64(&mut self.args, stay.into());
                self.args.push_str("&token=");
                self.push_token();
            }
            ApiArgs::CourseList => {
                let cat = self.rng.range(1, 1400);
                self.args.push_str("all_type=1&cat_type=");
                push_u64(&mut self.args, cat.into());
                self.args.push_str("&easy_type=3&page=1&sort_type=0&token=");
                self.push_token();
                self.args.push_str("&uid=");
                push_u64(&mut self.args, uid);
            }
        }
        let ua = self.app_ua(client);
        let up = self.www_upstream();
        let mut f = Self::base_fields(client.ip, "www.imooc.com", ua, up);
        f.method = "POST";
        f.bytes = self.bytes(f64::from(median), 0.2);
        f.upstream_ms = self.dyn_ms(60.0);
        self.maybe_error(&mut f);
        self.finish_timing(&mut f);
        f
    }

    fn push_cdn_mp4_path(&mut self) {
        let a = self.rng.u64();
        let b = self.rng.u64();
        let p = &mut self.path;
        p.push('/');
        push_hex(p, a >> 32, 8);
        p.push('-');
        push_hex(p, a >> 16, 4);
        p.push('-');
        push_hex(p, a, 4);
        p.push('-');
        push_hex(p, b >> 48, 4);
        p.push('-');
        push_hex(p, b, 12);
        p.push_str(match a % 3 {
            0 => "/L.mp4",
            1 => "/M.mp4",
            _ => "/H.mp4",
        });
    }

    fn page_line(&mut self, ns: i64, client: Client, page: Page) -> Fields {
        self.write_referer(page);
        let group = Self::group(page);
        let req = match group {
            Group::Video => self.req_video.pick(&mut self.rng),
            Group::Code => self.req_code.pick(&mut self.rng),
            Group::Learn => self.req_learn.pick(&mut self.rng),
            Group::Article => self.req_article.pick(&mut self.rng),
            Group::Www => self.req_www.pick(&mut self.rng),
            Group::Coding => self.req_coding.pick(&mut self.rng),
            Group::Mobile => self.req_mobile.pick(&mut self.rng),
        };
        let mobile_site = group == Group::Mobile;
        let ua = self.browser_ua(client, mobile_site);
        let (media, course) = self.page_ids(page);
        let www_host = if mobile_site {
            "m.imooc.com"
        } else {
            "www.imooc.com"
        };
        let up = self.www_upstream();
        let mut f = Self::base_fields(client.ip, www_host, ua, up);
        match req {
            Req::MediaUser => {
                f.method = "POST";
                f.bytes = if self.rng.chance(0.8) { 54 } else { 67 };
                f.upstream_ms = self.dyn_ms(20.0);
                if matches!(page, Page::Code(_)) {
                    self.path.push_str("/course/ajaxmediauser");
                    self.args.push_str("mid=");
                    push_u64(&mut self.args, media.into());
                    self.args.push_str("&time=60");
                } else {
                    self.path.push_str("/course/ajaxmediauser/");
                    let t = u64::from(self.rng.range(1, 30)) * 60;
                    let frac = self.rng.below(1000);
                    let learn_tenths = self.rng.range(10, 9000);
                    self.args.push_str("mid=");
                    push_u64(&mut self.args, media.into());
                    self.args.push_str("&time=");
                    push_u64(&mut self.args, t);
                    if frac > 0 {
                        self.args.push('.');
                        push_u64(&mut self.args, frac.into());
                    }
                    self.args.push_str("&learn_time=");
                    push_u64(&mut self.args, (learn_tenths / 10).into());
                    self.args.push('.');
                    push_u64(&mut self.args, (learn_tenths % 10).into());
                }
            }
            Req::PageSelf => {
                self.write_page_path(page);
                f.bytes = self.bytes(8_000.0, 0.2);
                f.upstream_ms = self.dyn_ms(180.0);
                self.maybe_error(&mut f);
            }
            Req::UCard => {
                self.path.push_str("/u/card");
                f.bytes = self.bytes(330.0, 0.05);
                f.upstream_ms = self.dyn_ms(40.0);
                self.maybe_error(&mut f);
            }
            Req::ULoading => {
                self.path.push_str("/u/loading");
                f.bytes = 66;
                f.upstream_ms = self.dyn_ms(15.0);
            }
            Req::VisitLog => {
                self.path.push_str("/visitlog/index/user?v=");
                let v = Self::event_ms(ns).saturating_sub(u64::from(self.rng.below(90_000)));
                push_u64(&mut self.path, v);
                f.bytes = self.bytes(2_955.0, 0.01);
                f.upstream_ms = u64::from(self.rng.range(5, 12));
            }
            Req::CollectVideo => {
                self.path.push_str("/course/collectvideo");
                f.method = "POST";
                f.bytes = 72;
                f.upstream_ms = self.dyn_ms(120.0);
                let buffer = self.rng.below(3000);
                self.args.push_str("renderingMode=0&bufferTime=");
                push_u64(&mut self.args, buffer.into());
                self.args.push_str("&videoId=");
                push_u64(&mut self.args, media.into());
                self.args.push_str(
                    "&errorMsg=&currentHd=1&oldHd=NaN&type=1&fullscreen=0&cdn=v2.mukewang.com&source=1&currentSpeed=1.0+X&oldSpeed=&winWidth=1366&winHeight=768",
                );
            }
            Req::CodeSubmit => {
                self.path.push_str("/course/codesubmit");
                f.method = "POST";
                f.bytes = self.bytes(140.0, 0.4);
                f.upstream_ms = self.dyn_ms(250.0);
                self.args.push_str("cid=");
                push_u64(&mut self.args, course.into());
                self.args.push_str("&mid=");
                push_u64(&mut self.args, media.into());
                self.args.push_str("&eid=");
                push_u64(&mut self.args, media.into());
                self.args.push_str(
                    "&lang=Javascript&file=&files%5B0%5D%5Bfilename%5D=index.html&files%5B0%5D%5Blang%5D=html&files%5B0%5D%5Bcontent%5D=%3C!DOCTYPE+HTML%3E%0A",
                );
            }
            Req::SaveCode => {
                self.path.push_str("/course/savecode");
                f.method = "POST";
                f.bytes = self.bytes(60.0, 0.1);
                f.upstream_ms = self.dyn_ms(160.0);
                self.args.push_str("lang=java&cid=");
                push_u64(&mut self.args, course.into());
                self.args.push_str(
                    "&code=public+class+HelloWorld%7B%0A%7D&filename=HelloWorld.java&sid=",
                );
                push_u64(&mut self.args, media.into());
                self.args.push('-');
                let uid = self.imooc_uid(client);
                push_u64(&mut self.args, uid);
            }
            Req::Ajax(a) => {
                f.method = a.method;
                self.path.push_str(a.prefix);
                let id = match a.id {
                    IdOf::Course => course,
                    IdOf::Media => media,
                };
                push_u64(&mut self.path, id.into());
                match a.suffix {
                    Suffix::None => {}
                    Suffix::ModeFlash => self.path.push_str("&mode=flash"),
                    Suffix::PageR => {
                        self.path.push_str("&page=1&r=");
                        push_js_random(&mut self.path, &mut self.rng);
                    }
                }
                f.bytes = self.bytes(a.median, 0.3);
                f.upstream_ms = self.dyn_ms(80.0);
                self.maybe_error(&mut f);
            }
            Req::ArticleGetUser => {
                self.path.push_str("/article/getuser?uid=");
                let author = self.attr(client, 4) % 4_400_000 + 100_000;
                push_u64(&mut self.path, author);
                f.bytes = self.bytes(270.0, 0.1);
                f.upstream_ms = self.dyn_ms(70.0);
            }
            Req::Static => {
                let (path, size, host, upstream) = match group {
                    Group::Coding => {
                        let (p, s) =
                            CODING_STATIC[self.rng.below(CODING_STATIC.len() as u32) as usize];
                        let up = CODING_UPSTREAMS[self.rng.below(4) as usize];
                        (p, s, "coding.imooc.com", up)
                    }
                    Group::Mobile => {
                        let (p, s) =
                            MOBILE_STATIC[self.rng.below(MOBILE_STATIC.len() as u32) as usize];
                        (p, s, "m.imooc.com", up)
                    }
                    _ => {
                        let (p, s) = WWW_STATIC[self.rng.below(WWW_STATIC.len() as u32) as usize];
                        (p, s, "www.imooc.com", up)
                    }
                };
                self.path.push_str(path);
                f.host = host;
                f.upstream = Upstream::Addr(upstream);
                if self.rng.chance(0.35) {
                    f.status = 304;
                } else {
                    f.bytes = u64::from(size);
                }
                f.upstream_ms = u64::from(self.rng.range(1, 3));
            }
            Req::Logo => {
                self.path.push_str("/static/img/common/logo.png?t=");
                let t = Self::event_ms(ns).saturating_sub(u64::from(self.rng.below(60_000)));
                push_u64(&mut self.path, t);
                // Served through the static proxy: the proxy's address, the client in XFF.
                f.ip = ip4(101, 200, 101, self.rng.range(195, 210) as u8);
                f.xff = if self.rng.chance(0.05) {
                    // Behind one more proxy of the client's own.
                    Xff::Two(client.ip, ip4(127, 0, 0, 1))
                } else {
                    Xff::One(client.ip)
                };
                f.host = "static.mukewang.com";
                f.upstream = Upstream::Addr(STATIC_UPSTREAM);
                f.bytes = 4468;
                f.upstream_ms = u64::from(self.rng.range(1, 3));
            }
            Req::Cdn => {
                // Fetched by the CDN's edge on the client's behalf.
                f.upstream = Upstream::Addr(CDN_UPSTREAMS[self.rng.below(3) as usize]);
                f.xff = Xff::One(client.ip);
                if group == Group::Coding {
                    f.ip = ip4(123, 57, 117, self.rng.range(60, 90) as u8);
                    f.host = "szv1.mukewang.com";
                    self.path.push_str("/md5/");
                    let a = self.rng.u64();
                    push_hex(&mut self.path, a, 16);
                    push_hex(&mut self.path, mix64(a), 8);
                    self.path.push_str(if a & 1 == 0 { "/H/" } else { "/L/" });
                    push_hex(&mut self.path, self.rng.u64(), 16);
                    self.path.push_str(".ts");
                    if self.rng.chance(0.6) {
                        f.status = 304;
                    } else {
                        f.bytes = self.bytes(400_000.0, 0.5);
                    }
                    f.upstream_ms = u64::from(self.rng.range(2, 6));
                } else {
                    f.ip = ip4(101, 200, 101, self.rng.range(10, 40) as u8);
                    f.host = "v2.mukewang.com";
                    self.push_cdn_mp4_path();
                    f.status = 206;
                    f.bytes = if self.rng.chance(0.8) {
                        524_288
                    } else {
                        u64::from(self.rng.range(1, 524_288))
                    };
                    f.upstream_ms = u64::from(self.rng.range(10, 40));
                }
            }
            Req::LessonMediaUser => {
                f.host = "coding.imooc.com";
                f.upstream = Upstream::Addr(CODING_UPSTREAMS[self.rng.below(4) as usize]);
                f.method = "POST";
                if let Page::CodingLesson(_) = page {
                    self.path.push_str("/lesson/ajaxmediauser/");
                    let mid = media * 20 + self.rng.below(20);
                    let learn = self.rng.range(59_990, 700_000);
                    self.args.push_str("mid=");
                    push_u64(&mut self.args, mid.into());
                    self.args.push_str("&learn_time=");
                    push_secs3(&mut self.args, learn.into());
                    self.args.push_str("&mode=video&video_point=");
                    push_u64(&mut self.args, u64::from(self.rng.below(700)));
                    f.bytes = if self.rng.chance(0.8) { 72 } else { 125 };
                } else {
                    self.path.push_str("/class/ajaxprelearn?cid=");
                    push_u64(&mut self.path, media.into());
                    f.method = "GET";
                    f.bytes = self.bytes(800.0, 0.3);
                }
                f.upstream_ms = self.dyn_ms(60.0);
            }
            Req::CodingAjax => {
                f.host = "coding.imooc.com";
                f.upstream = Upstream::Addr(CODING_UPSTREAMS[self.rng.below(4) as usize]);
                match self.rng.below(4) {
                    0 => {
                        self.path.push_str("/wap/classevaluation?cid=");
                        push_u64(&mut self.path, media.into());
                    }
                    1 => self.path.push_str("/class/ajaxsearchwords"),
                    2 => self.path.push_str("/pay/cartorder"),
                    _ => {
                        self.path.push_str("/class/ajaxprelearn?cid=");
                        push_u64(&mut self.path, media.into());
                    }
                }
                f.bytes = self.bytes(1_200.0, 0.6);
                f.upstream_ms = self.dyn_ms(60.0);
                self.maybe_error(&mut f);
            }
            Req::RunViewResult => {
                f.host = "cr.fw.imooc.com";
                f.upstream = Upstream::Addr(CR_UPSTREAM);
                self.path.push_str("/run/viewresult?sid=");
                push_u64(&mut self.path, media.into());
                self.path.push('-');
                let uid = self.imooc_uid(client);
                push_u64(&mut self.path, uid);
                f.bytes = self.bytes(900.0, 0.5);
                f.upstream_ms = self.dyn_ms(30.0);
            }
        }
        self.finish_timing(&mut f);
        f
    }

    // -----------------------------------------------------------------------------------------
    // Output.

    fn emit(&mut self, out: &mut String, ns: i64, f: &Fields) {
        out.reserve(200 + self.path.len() + self.referer.len() + self.args.len());
        push_ip(out, f.ip);
        out.push_str(" - - ");
        self.push_time(out, ns);
        out.push_str(" \"");
        out.push_str(f.method);
        out.push(' ');
        out.push_str(&self.path);
        out.push(' ');
        out.push_str(f.proto);
        out.push_str("\" ");
        push_u64(out, u64::from(f.status));
        out.push(' ');
        push_u64(out, f.bytes);
        out.push_str(" \"");
        out.push_str(f.host);
        out.push_str("\" \"");
        if self.referer.is_empty() {
            out.push('-');
        } else {
            out.push_str(&self.referer);
        }
        out.push_str("\" ");
        if self.args.is_empty() {
            out.push('-');
        } else {
            out.push_str(&self.args);
        }
        out.push_str(" \"");
        out.push_str(f.ua);
        out.push_str("\" \"");
        match f.xff {
            Xff::None => out.push('-'),
            Xff::One(ip) => push_ip(out, ip),
            Xff::Two(a, b) => {
                push_ip(out, a);
                out.push_str(", ");
                push_ip(out, b);
            }
        }
        out.push_str("\" ");
        match f.upstream {
            Upstream::None => out.push_str("- - - "),
            Upstream::Addr(addr) => {
                out.push_str(addr);
                out.push(' ');
                push_u64(out, u64::from(f.status));
                out.push(' ');
                push_secs3(out, f.upstream_ms);
                out.push(' ');
            }
        }
        push_secs3(out, f.request_ms);
    }
}

/// A public IPv4 address from a hash: a /16 network of the real sample's clients, the rest
/// from the hash, last octet 1..=254.
fn public_ip(h: u64) -> u32 {
    let [a, b] = CLIENT_PREFIXES[(h % CLIENT_PREFIXES.len() as u64) as usize];
    let c = ((h >> 16) & 0xff) as u8;
    let d = 1 + ((h >> 24) % 254) as u8;
    ip4(a, b, c, d)
}
