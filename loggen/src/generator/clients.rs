//! Clients: addresses, browsers and user ids, stable per client.

use super::LogGenerator;
use crate::config::{HEAVY_SHARE, HEAVY_USERS, NORMAL_USERS};
use crate::data::{ANDROID_APP_UAS, DESKTOP_UAS, IOS_APP_UAS, MOBILE_WEB_UAS};
use crate::model::{Client, public_ip};
use crate::random::mix64;

impl LogGenerator {
    pub(super) fn client(&self, key: u64) -> Client {
        Client {
            key,
            ip: public_ip(mix64(key ^ self.salt)),
        }
    }

    pub(super) fn pick_client(&mut self) -> Client {
        let key = if self.rng.chance(HEAVY_SHARE) {
            u64::from(self.heavy.sample_rank(&mut self.rng))
        } else {
            HEAVY_USERS as u64 + u64::from(self.rng.below(NORMAL_USERS))
        };
        self.client(key)
    }

    /// Per-client attribute hash (stable: a client keeps its browser, app and user id).
    pub(super) fn attr(&self, c: Client, what: u64) -> u64 {
        mix64(c.key ^ self.salt.rotate_left(17) ^ what.wrapping_mul(0xA24B_AED4_963E_E407))
    }

    pub(super) fn browser_ua(&self, c: Client, mobile_site: bool) -> &'static str {
        let h = self.attr(c, 1);
        if mobile_site || h % 100 < 12 {
            MOBILE_WEB_UAS[((h >> 8) % MOBILE_WEB_UAS.len() as u64) as usize]
        } else {
            DESKTOP_UAS[((h >> 8) % DESKTOP_UAS.len() as u64) as usize]
        }
    }

    pub(super) fn app_ua(&self, c: Client) -> &'static str {
        let h = self.attr(c, 2);
        if h & 3 == 0 {
            IOS_APP_UAS[((h >> 8) % IOS_APP_UAS.len() as u64) as usize]
        } else {
            ANDROID_APP_UAS[((h >> 8) % ANDROID_APP_UAS.len() as u64) as usize]
        }
    }

    pub(super) fn imooc_uid(&self, c: Client) -> u64 {
        100_000 + self.attr(c, 3) % 4_400_000
    }
}
