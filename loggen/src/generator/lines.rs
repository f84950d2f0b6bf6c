//! Lines other than page requests: internal traffic, `-` referers, bots, API calls.

use super::LogGenerator;
use crate::config::{INTERNAL_HEALTH, INTERNAL_SERVICE};
use crate::data::{
    ALNUM, API3, ApiArgs, CDN_UPSTREAMS, CHAT_UPSTREAM, IDE_UPSTREAM, UA_BAIDUSPIDER, UA_CURL,
    UA_GO, UA_GOOGLEBOT, UA_PYTHON, UA_WEBSOCKETS, WWW_UPSTREAMS,
};
use crate::model::{Client, DashKind, Fields, Page, Upstream, Xff, ip4};
use crate::text::{push_hex, push_u64};

impl LogGenerator {
    pub(super) fn base_fields(
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

    pub(super) fn www_upstream(&mut self) -> &'static str {
        WWW_UPSTREAMS[self.rng.below(WWW_UPSTREAMS.len() as u32) as usize]
    }

    /// Upstream latency of a dynamic request, in ms.
    pub(super) fn dyn_ms(&mut self, median: f64) -> u64 {
        self.rng.lognormal(median, 1.0).clamp(1.0, 30_000.0) as u64
    }

    pub(super) fn bytes(&mut self, median: f64, sigma: f64) -> u64 {
        self.rng.lognormal(median, sigma).clamp(1.0, 1_048_576.0) as u64
    }

    /// Sets `request_ms` from `upstream_ms` (usually equal, sometimes a little more).
    pub(super) fn finish_timing(&mut self, f: &mut Fields) {
        f.request_ms = f.upstream_ms;
        if self.rng.chance(0.1) {
            f.request_ms += u64::from(self.rng.range(1, 60));
        }
    }

    /// Occasional errors on dynamic requests.
    pub(super) fn maybe_error(&mut self, f: &mut Fields) {
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

    pub(super) fn internal_line(&mut self, ns: i64) -> Fields {
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

    pub(super) fn dash_line(&mut self, ns: i64, client: Client) -> Fields {
        match self.mix.dash.pick(&mut self.rng) {
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
    pub(super) fn direct_line(&mut self, client: Client) -> Fields {
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

    pub(super) fn bot_line(&mut self, google: bool) -> Fields {
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

    pub(super) fn push_secret(&mut self, client: Client, what: u64) {
        let a = self.attr(client, what);
        let b = self.attr(client, what + 1);
        push_hex(&mut self.args, a, 16);
        push_hex(&mut self.args, b, 16);
    }

    pub(super) fn push_token(&mut self) {
        let a = self.rng.u64();
        let b = self.rng.u64();
        push_hex(&mut self.args, a, 16);
        push_hex(&mut self.args, b, 16);
    }

    pub(super) fn api_line(&mut self, ns: i64, client: Client) -> Fields {
        let (name, style, _, median) = API3[self.mix.api.pick(&mut self.rng)];
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

    pub(super) fn push_cdn_mp4_path(&mut self) {
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
}
