//! The mix of what is generated: kinds of pages (referers), of `-` lines and of requests
//! per page group, with weights in tenths of a percent after the imooc sample.

use crate::data::API3;
use crate::model::{
    AJ_ARTICLE_RECOMMENDS, AJ_ARTICLE_SIMILAR, AJ_ARTICLE_UPVOTE, AJ_COURSE_LEARN,
    AJ_COURSE_MEMBERS, AJ_COURSE_RECOM, AJ_GET_COMMENT, AJ_LAST_MEDIA_RECOM, AJ_MAX_CHAPTER_QUES,
    AJ_MEDIA_INFO, AJ_MY_NOTE, AJ_OTHERS_CODE, AJ_PLAN_RECOM, AJ_USER_MEDIAS_STATUS,
    AJ_WENDA_RECOMMENDS, DashKind, PageKind, Req,
};
use crate::random::Picker;

pub(crate) struct Mix {
    /// Pages of non-`-` referers.
    pub(crate) pages: Picker<PageKind>,
    /// Lines without a referer.
    pub(crate) dash: Picker<DashKind>,
    /// API endpoints (indices into `API3`).
    pub(crate) api: Picker<usize>,
    /// Requests made from a page, per page group.
    pub(crate) req_video: Picker<Req>,
    pub(crate) req_code: Picker<Req>,
    pub(crate) req_learn: Picker<Req>,
    pub(crate) req_article: Picker<Req>,
    pub(crate) req_www: Picker<Req>,
    pub(crate) req_coding: Picker<Req>,
    pub(crate) req_mobile: Picker<Req>,
}

impl Mix {
    pub(crate) fn new() -> Self {
        let api_weights: Vec<(u32, usize)> =
            API3.iter().enumerate().map(|(i, a)| (a.2, i)).collect();
        Mix {
            pages: pages(),
            dash: Picker::new(&[
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
            ]),
            api: Picker::new(&api_weights),
            req_video: video_requests(),
            req_code: code_requests(),
            req_learn: learn_requests(),
            req_article: article_requests(),
            req_www: www_requests(),
            req_coding: coding_requests(),
            req_mobile: mobile_requests(),
        }
    }
}

/// Pages by share of the non-`-` referers.
fn pages() -> Picker<PageKind> {
    use PageKind as K;
    Picker::new(&[
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
    ])
}

/// Requests made from a video page.
fn video_requests() -> Picker<Req> {
    Picker::new(&[
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
    ])
}

/// Requests made from a code page.
fn code_requests() -> Picker<Req> {
    Picker::new(&[
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
    ])
}

/// Requests made from a learn page.
fn learn_requests() -> Picker<Req> {
    Picker::new(&[
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
    ])
}

/// Requests made from an article.
fn article_requests() -> Picker<Req> {
    Picker::new(&[
        (60, Req::ArticleGetUser),
        (50, Req::Ajax(&AJ_ARTICLE_SIMILAR)),
        (40, Req::Ajax(&AJ_ARTICLE_UPVOTE)),
        (150, Req::Logo),
        (60, Req::VisitLog),
        (60, Req::UCard),
        (60, Req::ULoading),
        (50, Req::PageSelf),
        (470, Req::Static),
    ])
}

/// Requests made from other www.imooc.com pages.
fn www_requests() -> Picker<Req> {
    Picker::new(&[
        (150, Req::VisitLog),
        (100, Req::ULoading),
        (100, Req::UCard),
        (80, Req::Logo),
        (450, Req::Static),
        (120, Req::PageSelf),
    ])
}

/// Requests made from coding.imooc.com.
fn coding_requests() -> Picker<Req> {
    Picker::new(&[
        (250, Req::LessonMediaUser),
        (300, Req::CodingAjax),
        (300, Req::Static),
        (250, Req::Cdn),
    ])
}

/// Requests made from m.imooc.com.
fn mobile_requests() -> Picker<Req> {
    Picker::new(&[
        (450, Req::Static),
        (150, Req::VisitLog),
        (150, Req::PageSelf),
        (250, Req::MediaUser),
    ])
}
