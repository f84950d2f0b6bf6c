//! The one place where ip2region's province names (`广东省`, `北京`, `内蒙古自治区`, …) meet
//! the names of the board's China map (`广东`, `北京`, `内蒙古`, …). The map's names are
//! read from the vendored map file itself, so the two cannot drift apart.

use std::sync::LazyLock;

use serde::Deserialize;

use super::super::web;

#[derive(Deserialize)]
struct GeoJson {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: Properties,
}

#[derive(Deserialize)]
struct Properties {
    name: String,
}

/// The map's province names, longest first (so the longest one that fits wins).
static MAP_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let geo: GeoJson = match serde_json::from_slice(web::CHINA_MAP) {
        Ok(geo) => geo,
        Err(e) => {
            // The file is embedded at build time and checked by a test.
            tracing::error!("the embedded China map cannot be read: {e}");
            return Vec::new();
        }
    };
    let mut names: Vec<String> = geo
        .features
        .into_iter()
        .map(|f| f.properties.name)
        .filter(|n| !n.is_empty())
        .collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    names
});

/// The map's name of province `name` as ip2region writes it: the map name it starts with
/// (`广西壮族自治区` → `广西`), or none for what is not a province of the map (an empty
/// region, `0`, `内网IP`, a foreign country).
pub fn map_name(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    MAP_NAMES
        .iter()
        .find(|m| name.starts_with(m.as_str()))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_has_every_province() {
        // 34 provincial divisions; the file may add the South China Sea islands.
        assert!(MAP_NAMES.len() >= 34, "{:?}", *MAP_NAMES);
    }

    #[test]
    fn ip2region_names_meet_the_maps() {
        for (ip2region, map) in [
            ("广东省", "广东"),
            ("北京", "北京"),
            ("北京市", "北京"),
            ("上海", "上海"),
            ("内蒙古自治区", "内蒙古"),
            ("广西壮族自治区", "广西"),
            ("新疆维吾尔自治区", "新疆"),
            ("宁夏回族自治区", "宁夏"),
            ("西藏自治区", "西藏"),
            ("黑龙江省", "黑龙江"),
            ("香港特别行政区", "香港"),
            ("陕西省", "陕西"),
            ("山西省", "山西"),
        ] {
            assert_eq!(map_name(ip2region), Some(map), "{ip2region}");
        }
        for not_a_province in ["", "0", "内网IP", "美国", "California"] {
            assert_eq!(map_name(not_a_province), None, "{not_a_province}");
        }
    }
}
