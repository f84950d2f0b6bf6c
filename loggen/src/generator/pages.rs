//! Pages and referers: which page a visit is on and how it is written.

use super::LogGenerator;
use crate::config::LEARN_IDS;
use crate::data::{COURSE_LIST_CATS, SEARCH_WORDS};
use crate::model::{Group, Page, PageKind};
use crate::random::mix64;
use crate::text::{push_hex, push_u64};

impl LogGenerator {
    pub(super) fn pick_page(&mut self) -> Page {
        let r = &mut self.rng;
        match self.mix.pages.pick(r) {
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

    pub(super) fn group(page: Page) -> Group {
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
    pub(super) fn page_ids(&self, page: Page) -> (u32, u32) {
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

    pub(super) fn write_referer(&mut self, page: Page) {
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
    pub(super) fn write_page_path(&mut self, page: Page) {
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
}
