//! Writing a line's fields in the nginx log format.

use super::LogGenerator;
use crate::model::{Fields, Upstream, Xff};
use crate::text::{push_ip, push_secs3, push_u64};

impl LogGenerator {
    pub(super) fn emit(&mut self, out: &mut String, ns: i64, f: &Fields) {
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
