//! Requests made from a page a visitor is on.

use super::LogGenerator;
use crate::data::{
    CDN_UPSTREAMS, CODING_STATIC, CODING_UPSTREAMS, CR_UPSTREAM, MOBILE_STATIC, STATIC_UPSTREAM,
    WWW_STATIC,
};
use crate::model::{Ajax, Client, Fields, Group, IdOf, Page, Req, Suffix, Upstream, Xff, ip4};
use crate::random::mix64;
use crate::text::{push_hex, push_js_random, push_secs3, push_u64};

impl LogGenerator {
    pub(super) fn page_line(&mut self, ns: i64, client: Client, page: Page) -> Fields {
        self.write_referer(page);
        let group = Self::group(page);
        let req = match group {
            Group::Video => self.mix.req_video.pick(&mut self.rng),
            Group::Code => self.mix.req_code.pick(&mut self.rng),
            Group::Learn => self.mix.req_learn.pick(&mut self.rng),
            Group::Article => self.mix.req_article.pick(&mut self.rng),
            Group::Www => self.mix.req_www.pick(&mut self.rng),
            Group::Coding => self.mix.req_coding.pick(&mut self.rng),
            Group::Mobile => self.mix.req_mobile.pick(&mut self.rng),
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
            Req::MediaUser => self.media_user(&mut f, page, media),
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
            Req::CollectVideo => self.collect_video(&mut f, media),
            Req::CodeSubmit => self.code_submit(&mut f, course, media),
            Req::SaveCode => self.save_code(&mut f, client, course, media),
            Req::Ajax(a) => self.ajax(&mut f, a, course, media),
            Req::ArticleGetUser => {
                self.path.push_str("/article/getuser?uid=");
                let author = self.attr(client, 4) % 4_400_000 + 100_000;
                push_u64(&mut self.path, author);
                f.bytes = self.bytes(270.0, 0.1);
                f.upstream_ms = self.dyn_ms(70.0);
            }
            Req::Static => self.static_file(&mut f, group, up),
            Req::Logo => self.logo(&mut f, ns, client),
            Req::Cdn => self.cdn(&mut f, group, client),
            Req::LessonMediaUser => self.lesson_media_user(&mut f, page, media),
            Req::CodingAjax => self.coding_ajax(&mut f, media),
            Req::RunViewResult => self.run_view_result(&mut f, client, media),
        }
        self.finish_timing(&mut f);
        f
    }

    /// Requests of the video player: how far the visitor has watched.
    fn media_user(&mut self, f: &mut Fields, page: Page, media: u32) {
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

    /// The player's playback report.
    fn collect_video(&mut self, f: &mut Fields, media: u32) {
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

    /// Code run from an exercise.
    fn code_submit(&mut self, f: &mut Fields, course: u32, media: u32) {
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

    /// Code saved from an exercise.
    fn save_code(&mut self, f: &mut Fields, client: Client, course: u32, media: u32) {
        self.path.push_str("/course/savecode");
        f.method = "POST";
        f.bytes = self.bytes(60.0, 0.1);
        f.upstream_ms = self.dyn_ms(160.0);
        self.args.push_str("lang=java&cid=");
        push_u64(&mut self.args, course.into());
        self.args
            .push_str("&code=public+class+HelloWorld%7B%0A%7D&filename=HelloWorld.java&sid=");
        push_u64(&mut self.args, media.into());
        self.args.push('-');
        let uid = self.imooc_uid(client);
        push_u64(&mut self.args, uid);
    }

    /// An AJAX call about the page's course or media.
    fn ajax(&mut self, f: &mut Fields, a: &Ajax, course: u32, media: u32) {
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
        self.maybe_error(f);
    }

    /// A static file of the page's site.
    fn static_file(&mut self, f: &mut Fields, group: Group, up: &'static str) {
        let (path, size, host, upstream) = match group {
            Group::Coding => {
                let (p, s) = CODING_STATIC[self.rng.below(CODING_STATIC.len() as u32) as usize];
                let up = CODING_UPSTREAMS[self.rng.below(4) as usize];
                (p, s, "coding.imooc.com", up)
            }
            Group::Mobile => {
                let (p, s) = MOBILE_STATIC[self.rng.below(MOBILE_STATIC.len() as u32) as usize];
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

    /// The logo, through the static proxy.
    fn logo(&mut self, f: &mut Fields, ns: i64, client: Client) {
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

    /// A video segment fetched by the CDN.
    fn cdn(&mut self, f: &mut Fields, group: Group, client: Client) {
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

    /// Progress of a paid lesson (coding.imooc.com).
    fn lesson_media_user(&mut self, f: &mut Fields, page: Page, media: u32) {
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

    /// An AJAX call of coding.imooc.com.
    fn coding_ajax(&mut self, f: &mut Fields, media: u32) {
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
        self.maybe_error(f);
    }

    /// The result of code run on cr.fw.imooc.com.
    fn run_view_result(&mut self, f: &mut Fields, client: Client, media: u32) {
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
