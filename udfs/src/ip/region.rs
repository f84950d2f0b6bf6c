//! The `country|area|province|city|isp` region string of an ip2region record.

/// A region with ip2region's `0` placeholders (and empty parts) turned into `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Region<'a> {
    pub country: Option<&'a str>,
    pub area: Option<&'a str>,
    pub province: Option<&'a str>,
    pub city: Option<&'a str>,
    pub isp: Option<&'a str>,
}

/// One part of a [`Region`], for the single-part SQL functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegionPart {
    Country,
    Area,
    Province,
    City,
    Isp,
}

impl<'a> Region<'a> {
    /// Splits a region string; missing trailing parts are `None`, extra parts are ignored.
    pub fn parse(text: &'a str) -> Region<'a> {
        let mut parts = text.split('|').map(|p| match p {
            "" | "0" => None,
            p => Some(p),
        });
        let mut next = || parts.next().flatten();
        Region {
            country: next(),
            area: next(),
            province: next(),
            city: next(),
            isp: next(),
        }
    }

    pub fn get(&self, part: RegionPart) -> Option<&'a str> {
        match part {
            RegionPart::Country => self.country,
            RegionPart::Area => self.area,
            RegionPart::Province => self.province,
            RegionPart::City => self.city,
            RegionPart::Isp => self.isp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_unknown() {
        let r = Region::parse("中国|0|陕西省|西安市|电信");
        assert_eq!(r.country, Some("中国"));
        assert_eq!(r.area, None);
        assert_eq!(r.province, Some("陕西省"));
        assert_eq!(r.get(RegionPart::City), Some("西安市"));
        assert_eq!(r.isp, Some("电信"));
        assert_eq!(Region::parse(""), Region::default());
        let short = Region::parse("美国|0");
        assert_eq!((short.country, short.province), (Some("美国"), None));
    }
}
