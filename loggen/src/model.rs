//! The model: pages (the referer), requests made from them, and what a client is.

use crate::data::CLIENT_PREFIXES;

pub(crate) const fn ip4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// Whether an address is in the ranges the cleaning job drops (10/8, 172.16/12, 192.168/16,
/// 127/8, 0.0.0.0).
#[cfg(test)]
pub(crate) fn is_internal(ip: u32) -> bool {
    let a = ip >> 24;
    let b = (ip >> 16) & 0xff;
    a == 10 || a == 127 || (a == 172 && (16..32).contains(&b)) || (a == 192 && b == 168) || ip == 0
}

/// The page a visit is on; it becomes the referer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Page {
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
pub(crate) enum PageKind {
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
pub(crate) enum Group {
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
pub(crate) enum IdOf {
    /// The course (learn id) the page belongs to.
    Course,
    /// The media (video/code id) of the page.
    Media,
}

#[derive(Clone, Copy)]
pub(crate) enum Suffix {
    None,
    ModeFlash,
    PageR,
}

/// A `www.imooc.com` AJAX endpoint: `METHOD prefix<id><suffix>`.
pub(crate) struct Ajax {
    pub(crate) method: &'static str,
    pub(crate) prefix: &'static str,
    pub(crate) id: IdOf,
    pub(crate) suffix: Suffix,
    pub(crate) median: f64,
}

pub(crate) const AJ_ARTICLE_RECOMMENDS: Ajax = Ajax {
    method: "GET",
    prefix: "/article/ajaxcourserecommends?id=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 2500.0,
};
pub(crate) const AJ_MAX_CHAPTER_QUES: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxmaxchaptermediaques?mid=",
    id: IdOf::Media,
    suffix: Suffix::None,
    median: 72.0,
};
pub(crate) const AJ_LAST_MEDIA_RECOM: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxlastmediarecom?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 4200.0,
};
pub(crate) const AJ_USER_MEDIAS_STATUS: Ajax = Ajax {
    method: "POST",
    prefix: "/course/ajaxusermediasstatus?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 600.0,
};
pub(crate) const AJ_PLAN_RECOM: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxplanrecom?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 74.0,
};
pub(crate) const AJ_MEDIA_INFO: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxmediainfo/?mid=",
    id: IdOf::Media,
    suffix: Suffix::ModeFlash,
    median: 305.0,
};
pub(crate) const AJ_COURSE_RECOM: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxcourserecom?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 4900.0,
};
pub(crate) const AJ_GET_COMMENT: Ajax = Ajax {
    method: "GET",
    prefix: "/course/getcomment?mid=",
    id: IdOf::Media,
    suffix: Suffix::PageR,
    median: 2300.0,
};
pub(crate) const AJ_WENDA_RECOMMENDS: Ajax = Ajax {
    method: "GET",
    prefix: "/wenda/ajaxcourserecommends?id=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 1400.0,
};
pub(crate) const AJ_MY_NOTE: Ajax = Ajax {
    method: "GET",
    prefix: "/course/mynote?mid=",
    id: IdOf::Media,
    suffix: Suffix::PageR,
    median: 16_000.0,
};
pub(crate) const AJ_OTHERS_CODE: Ajax = Ajax {
    method: "GET",
    prefix: "/course/otherscode?mid=",
    id: IdOf::Media,
    suffix: Suffix::PageR,
    median: 3400.0,
};
pub(crate) const AJ_COURSE_MEMBERS: Ajax = Ajax {
    method: "GET",
    prefix: "/course/AjaxCourseMembers?ids=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 85.0,
};
pub(crate) const AJ_COURSE_LEARN: Ajax = Ajax {
    method: "GET",
    prefix: "/course/ajaxcourselearn?cid=",
    id: IdOf::Course,
    suffix: Suffix::None,
    median: 60.0,
};
pub(crate) const AJ_ARTICLE_SIMILAR: Ajax = Ajax {
    method: "GET",
    prefix: "/article/getsimilar?id=",
    id: IdOf::Media,
    suffix: Suffix::None,
    median: 1800.0,
};
pub(crate) const AJ_ARTICLE_UPVOTE: Ajax = Ajax {
    method: "GET",
    prefix: "/article/getupvoteusers?id=",
    id: IdOf::Media,
    suffix: Suffix::None,
    median: 400.0,
};

/// A request made from a page.
#[derive(Clone, Copy)]
pub(crate) enum Req {
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
pub(crate) enum DashKind {
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
pub(crate) enum Upstream {
    /// Answered by nginx itself: `- - -`.
    None,
    Addr(&'static str),
}

#[derive(Clone, Copy)]
pub(crate) enum Xff {
    None,
    One(u32),
    Two(u32, u32),
}

/// The scalar fields of one line; the variable-length ones live in the generator's buffers.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub(crate) ip: u32,
    pub(crate) method: &'static str,
    pub(crate) proto: &'static str,
    pub(crate) status: u16,
    pub(crate) bytes: u64,
    pub(crate) host: &'static str,
    pub(crate) ua: &'static str,
    pub(crate) xff: Xff,
    pub(crate) upstream: Upstream,
    pub(crate) upstream_ms: u64,
    pub(crate) request_ms: u64,
}

/// A client: index into the population, from which IP and browser follow.
#[derive(Clone, Copy)]
pub(crate) struct Client {
    pub(crate) key: u64,
    pub(crate) ip: u32,
}

#[derive(Clone, Copy)]
pub(crate) struct Visit {
    pub(crate) client: Client,
    pub(crate) page: Page,
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

/// A public IPv4 address from a hash: a /16 network of the real sample's clients, the rest
/// from the hash, last octet 1..=254.
pub(crate) fn public_ip(h: u64) -> u32 {
    let [a, b] = CLIENT_PREFIXES[(h % CLIENT_PREFIXES.len() as u64) as usize];
    let c = ((h >> 16) & 0xff) as u8;
    let d = 1 + ((h >> 24) % 254) as u8;
    ip4(a, b, c, d)
}
