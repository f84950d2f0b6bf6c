//! Static tables for the access-log generator, taken from the shape of the real
//! 10 Nov 2016 imooc sample (`shared/data/imooc/10000_access.log`).

pub(super) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// First octets of public IPv4 blocks, mostly Chinese ISPs (China Telecom, Unicom,
/// Mobile, Aliyun, ...) plus a few foreign ones. None of them is in 0/8, 10/8,
/// 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16 or 224/4 and above.
pub(super) const PUBLIC_FIRST_OCTETS: [u8; 48] = [
    1, 14, 27, 36, 39, 42, 49, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117,
    118, 119, 120, 121, 122, 123, 124, 125, 139, 140, 171, 175, 180, 182, 183, 202, 210, 211, 218,
    219, 220, 221, 222, 223, 36, 117, 183,
];

/// Desktop browsers (the sample's most common user agents).
pub(super) const DESKTOP_UAS: [&str; 24] = [
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/45.0.2454.101 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/45.0.2454.101 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/45.0.2454.101 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/53.0.2785.104 Safari/537.36 Core/1.53.1708.400 QQBrowser/9.5.9635.400",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:49.0) Gecko/20100101 Firefox/49.0",
    "Mozilla/5.0 (Windows NT 10.0; WOW64; rv:49.0) Gecko/20100101 Firefox/49.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.87 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.22 Safari/537.36 SE 2.X MetaSr 1.0",
    "Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/45.0.2454.101 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.102 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.102 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36 Edge/14.14393",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.71 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12) AppleWebKit/602.1.50 (KHTML, like Gecko) Maxthon/4.5.3",
    "Mozilla/5.0 (Windows NT 6.1; rv:49.0) Gecko/20100101 Firefox/49.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/47.0.2526.106 BIDUBrowser/8.6 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.154 Safari/537.36 LBBROWSER",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; WOW64; Trident/6.0)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_1) AppleWebKit/602.2.14 (KHTML, like Gecko) Version/10.0.1 Safari/602.2.14",
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36 OPR/41.0.2353.46",
];

/// Mobile browsers (used for m.imooc.com and a share of phone users).
pub(super) const MOBILE_WEB_UAS: [&str; 6] = [
    "Mozilla/5.0 (Linux; U; Android 6.0; zh-CN; x600 Build/ABXCNOP5801810092S) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/40.0.2214.89 UCBrowser/11.1.5.871 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 6.0; HUAWEI VIE-AL10 Build/HUAWEIVIE-AL10) AppleWebKit/537.36(KHTML,like Gecko) Version/4.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 5.1.1; zh-cn; SM-A5100 Build/LMY47X) AppleWebKit/537.36 (KHTML, like Gecko)Version/4.0 Chrome/37.0.0.0 MQQBrowser/7.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 9_3_5 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) Mobile/13G36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 10_1_1 like Mac OS X) AppleWebKit/602.2.14 (KHTML, like Gecko) Version/10.0 Mobile/14B100 Safari/602.1",
    "Mozilla/5.0 (Linux; Android 4.0.4; Galaxy Nexus Build/IMM76B) AppleWebKit/535.19 (KHTML, like Gecko) Chrome/18.0.1025.133 Mobile Safari/535.19",
];

/// The imooc Android app.
pub(super) const ANDROID_APP_UAS: [&str; 10] = [
    "mukewang/5.0.0 (Android 5.1.1; Xiaomi Redmi 3 Build/LMY47V),Network 2G/3G",
    "mukewang/5.0.1 (Android 5.0.2; Xiaomi Redmi Note 2 Build/LRX22G),Network WIFI",
    "mukewang/5.0.0 (Android 4.4.2; Xiaomi 2014501 Build/KOT49H),Network WIFI",
    "mukewang/5.0.1 (Android 5.1; Meizu MX5 Build/LMY47I),Network WIFI",
    "mukewang/5.0.1 (Android 6.0; HUAWEI BTV-W09 Build/HUAWEIBEETHOVEN-W09),Network WIFI",
    "mukewang/5.0.0 (Android 5.1; OPPO OPPO R9m Build/LMY47I),Network WIFI",
    "mukewang/5.0.0 (Android 4.4.2; Honor Che2-TL00 Build/HonorChe2-TL00),Network 2G/3G",
    "mukewang/5.0.1 (Android 4.4.4; OPPO R8107 Build/KTU84P),Network 2G/3G",
    "mukewang/5.0.0 (Android 4.4.4; Xiaomi MI 4W Build/KTU84P),Network WIFI",
    "mukewang/5.0.1 (Android 6.0; honor FRD-AL00 Build/HUAWEIFRD-AL00),Network WIFI",
];

/// The imooc iOS app.
pub(super) const IOS_APP_UAS: [&str; 5] = [
    "mukewang/5.0.2 (iPhone; iOS 10.1.1; Scale/2.00)",
    "mukewang/5.0.2 (iPhone; iOS 8.4.1; Scale/2.00)",
    "mukewang/5.0.2 (iPhone; iOS 10.0.1; Scale/3.00)",
    "mukewang/5.0.2 (iPhone; iOS 10.0.2; Scale/2.00)",
    "mukewang/4.3.2 (iPhone; iOS 7.1.2; Scale/2.00)",
];

pub(super) const UA_BAIDUSPIDER: &str =
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)";
pub(super) const UA_GOOGLEBOT: &str =
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
pub(super) const UA_CURL: &str = "curl/7.19.7 (x86_64-redhat-linux-gnu) libcurl/7.19.7 NSS/3.16.2.3 Basic ECC zlib/1.2.3 libidn/1.18 libssh2/1.4.2";
pub(super) const UA_WEBSOCKETS: &str = "android-websockets-2.0";
pub(super) const UA_GO: &str = "Go-http-client/1.1";
pub(super) const UA_PYTHON: &str = "python-requests/2.10.0";

/// www.imooc.com static resources and their sizes (as served in the sample).
pub(super) const WWW_STATIC: [(&str, u32); 24] = [
    (
        "/static/sea-modules/seajs/seajs-text/1.0.3/seajs-text.js?v=201611082232",
        2051,
    ),
    (
        "/static/component/logic/common/common.js?v=201611082232",
        4887,
    ),
    ("/static/component/base/util/string.js?v=201611082232", 1362),
    (
        "/static/component/logic/common/userinfo.js?v=201611082232",
        2690,
    ),
    ("/static/component/base/util/cookie.js?v=201611082232", 2223),
    (
        "/static/component/base/suggest/suggest.js?v=201611082232",
        7266,
    ),
    ("/static/lib/jquery/1.9.1/jquery.js?v=201611082232", 92612),
    ("/static/sea-modules/seajs/seajs/2.1.1/sea.js", 6365),
    (
        "/static/sea-modules/gallery/store/1.3.14/store.js?v=201611082232",
        2440,
    ),
    ("/static/component/logic/chat/im.js?v=201611082232", 2340),
    (
        "/static/lib/socket.io/1.3.5/socket.io.min.js?v=201611082232",
        91538,
    ),
    (
        "/static/moco/v1.0/dist/css/moco.min.css?t=201611082232",
        5474,
    ),
    ("/passport/static/scripts/ssologin.js?v=2.0", 16756),
    ("/static/sea_config.js?v=201611082232", 2317),
    ("/static/img/index/QR-code.jpg", 14531),
    (
        "/static/moco/v1.0/dist/js/moco.min.js?v=201611082232",
        20963,
    ),
    ("/static/img/common/footer-sprite.png?1", 25985),
    ("/static/lib/layer/1.6.0/layer.min.js?v=201611082232", 15297),
    ("/static/fonts/fonts/icomoon.ttf?d849nx", 17036),
    ("/static/page/course/qadetail.js?v=201611082232", 15801),
    ("/static/page/wenda/detail-common.js?v=201611082232", 25777),
    ("/static/page/course/learn.js?v=201611082232", 9412),
    ("/static/img/common/elevator.png", 26842),
    (
        "/static/lib/ueditor/third-party/zeroclipboard/ZeroClipboard.js",
        44471,
    ),
];

/// m.imooc.com static resources.
pub(super) const MOBILE_STATIC: [(&str, u32); 8] = [
    ("/m/fonts/style.css", 828),
    ("/m/lib/zepto/zepto.js", 9800),
    ("/m/js/util/cookie.js", 628),
    ("/m/js/util/share.js", 591),
    ("/m/css/common/amazeui.touch.min.css", 12541),
    ("/m/css/common/share.css", 498),
    ("/m/build/bundle.js", 270967),
    ("/m/img/home/logo.png", 3314),
];

/// coding.imooc.com static resources.
pub(super) const CODING_STATIC: [(&str, u32); 7] = [
    ("/static/module/wap/class/js/zepto.min.js", 22661),
    ("/static/module/common/font/fonts/sz.ttf?jftt03", 13232),
    ("/static/module/common/img/menu_icon.png", 2495),
    ("/static/module/common/img/footer-sprite.png", 9687),
    ("/static/module/index/img/banner1.jpg", 98516),
    ("/static/lib/util/autocomplete.js?v=201610270060", 8853),
    ("/static/lib/jwplayer/7.4.3/webjwplayer.js", 233406),
];

/// App API endpoints (`POST /api3/<name>`), each with an args style and a typical size.
#[derive(Clone, Copy)]
pub(super) enum ApiArgs {
    /// `cid=..&timestamp=..&uid=..&secrect=..&token=..`
    Plain,
    /// `cid=..&timestamp=..&uid=..&secrect=..&uuid=..&token=..`
    Uuid,
    /// `timestamp=..&uid=..&secrect=..&uuid=..&cid=..&token=..`
    UuidFirst,
    /// savemediafinish
    MediaFinish,
    /// `cid=0&timestamp=..&uid=..&marking=androidbanner&secrect=..&token=..`
    Adv,
    /// iOS course list
    CourseList,
}

pub(super) const API3: [(&str, ApiArgs, u32, u32); 20] = [
    // (name, args, weight, median bytes)
    ("savemediafinish", ApiArgs::MediaFinish, 103, 103),
    ("getinvitemeuserlist", ApiArgs::UuidFirst, 96, 115),
    ("latest", ApiArgs::UuidFirst, 94, 366),
    ("courselist_ver2", ApiArgs::CourseList, 35, 8200),
    ("courselist_ver3", ApiArgs::Uuid, 35, 9100),
    ("getcpinfo_ver2", ApiArgs::Uuid, 50, 1250),
    ("getcourseintro", ApiArgs::Plain, 44, 2510),
    ("userinfo", ApiArgs::Uuid, 34, 153),
    ("getcourseinfor", ApiArgs::UuidFirst, 33, 596),
    ("programcontact", ApiArgs::Plain, 27, 420),
    ("getrelevantcourse", ApiArgs::Plain, 26, 1630),
    ("apprun", ApiArgs::Uuid, 26, 103),
    ("coursecommentlist", ApiArgs::Plain, 26, 4350),
    ("getmediainfo_ver2", ApiArgs::Plain, 25, 633),
    ("courseques", ApiArgs::UuidFirst, 25, 6836),
    ("appover", ApiArgs::Plain, 21, 103),
    ("beta", ApiArgs::Plain, 18, 98),
    ("getcoursekeyword", ApiArgs::Plain, 18, 812),
    ("searchword", ApiArgs::Uuid, 17, 2053),
    ("getadv", ApiArgs::Adv, 14, 813),
];

/// Course list categories seen in `/course/list?c=..` referers.
pub(super) const COURSE_LIST_CATS: [&str; 8] = [
    "fe", "be", "mobile", "data", "photo", "cloud", "java", "python",
];

/// Search words seen in `/search/?words=..` referers.
pub(super) const SEARCH_WORDS: [&str; 6] = ["mongodb", "java", "python", "spark", "vue", "php"];

/// Upstreams for www.imooc.com / m.imooc.com.
pub(super) const WWW_UPSTREAMS: [&str; 5] = [
    "10.100.136.64:80",
    "10.100.136.65:80",
    "10.100.136.64:80",
    "10.100.136.65:80",
    "10.100.134.244:80",
];
pub(super) const CODING_UPSTREAMS: [&str; 4] = [
    "10.100.135.24:80",
    "10.100.135.25:80",
    "10.100.135.57:80",
    "10.100.135.58:80",
];
pub(super) const CDN_UPSTREAMS: [&str; 3] =
    ["10.100.133.97:80", "10.100.133.98:80", "10.100.133.99:80"];
pub(super) const CHAT_UPSTREAM: &str = "10.100.15.239:80";
pub(super) const STATIC_UPSTREAM: &str = "10.100.15.240:80";
pub(super) const IDE_UPSTREAM: &str = "10.100.135.254:30800";
pub(super) const CR_UPSTREAM: &str = "10.100.132.152:80";

/// Hex digits for tokens.
pub(super) const HEX: &[u8; 16] = b"0123456789abcdef";
/// Characters of socket.io session ids.
pub(super) const ALNUM: &[u8; 62] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
