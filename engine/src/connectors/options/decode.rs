//! Connector options into typed structs with serde: `Options::decode::<T>()`.
//!
//! Option values are text (SQL `WITH ('k' = 'v')` and YAML alike), so each value is
//! parsed into the type the field asks for (numbers, booleans, lists split on commas,
//! enums by name). The field names come from serde itself (`deserialize_struct`), so an
//! unknown key is refused with a "did you mean" before anything is read. serde has no
//! deserializer over a map of strings that parses numbers, hence this small one.

use std::collections::BTreeMap;
use std::fmt::Display;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

/// What went wrong decoding one table's options, and the option it is about.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    pub message: String,
    pub option: Option<String>,
}

impl DecodeError {
    fn new(message: impl Into<String>) -> Self {
        DecodeError {
            message: message.into(),
            option: None,
        }
    }

    /// The error about option `key`, its message naming the key.
    fn of_option(self, key: &str) -> Self {
        let message = if self.message.starts_with("option '") {
            self.message
        } else {
            format!("option '{key}': {}", self.message)
        };
        DecodeError {
            message,
            option: Some(key.to_string()),
        }
    }
}

impl de::Error for DecodeError {
    fn custom<T: Display>(msg: T) -> Self {
        DecodeError::new(msg.to_string())
    }
}

/// The options of one table, as serde reads them (`connector` is not a field: it chose
/// the struct).
pub struct OptionsDeserializer<'a>(pub &'a BTreeMap<String, String>);

impl<'de, 'a> de::Deserializer<'de> for OptionsDeserializer<'a> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DecodeError> {
        Err(DecodeError::new("connector options decode into a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        super::check_keys(self.0, fields)
            .map_err(|(key, message)| DecodeError::new(message).of_option(&key))?;
        visitor.visit_map(Entries {
            entries: self.0.iter().filter(|(k, _)| k.as_str() != "connector"),
            value: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct Entries<'a, I: Iterator<Item = (&'a String, &'a String)>> {
    entries: I,
    value: Option<(&'a str, &'a str)>,
}

impl<'de, 'a, I: Iterator<Item = (&'a String, &'a String)>> MapAccess<'de> for Entries<'a, I> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((k, v));
        let key: StrDeserializer<'_, DecodeError> = k.as_str().into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let (key, text) = self
            .value
            .take()
            .ok_or_else(|| DecodeError::new("a value without its key"))?;
        // Errors of a field's own parsing (e.g. a duration) are named after its key too.
        seed.deserialize(Text { key, text })
            .map_err(|e| e.of_option(key))
    }
}

/// One option's text, parsed into what the field wants.
struct Text<'a> {
    key: &'a str,
    text: &'a str,
}

impl Text<'_> {
    fn invalid(&self, what: &str) -> DecodeError {
        DecodeError::new(format!(
            "option '{}' = '{}' is not {what}",
            self.key, self.text
        ))
    }

    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, DecodeError> {
        self.text.trim().parse().map_err(|_| self.invalid(what))
    }
}

macro_rules! parsed {
    ($($method:ident => $visit:ident : $ty:ty, $what:literal;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            visitor.$visit(self.parse::<$ty>($what)?)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Text<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_string(self.text.to_string())
    }

    parsed! {
        deserialize_u8 => visit_u8: u8, "a whole number from 0 to 255";
        deserialize_u16 => visit_u16: u16, "a whole number from 0 to 65535";
        deserialize_u32 => visit_u32: u32, "a whole number of at least 0";
        deserialize_u64 => visit_u64: u64, "a whole number of at least 0";
        deserialize_i32 => visit_i32: i32, "a whole number";
        deserialize_i64 => visit_i64: i64, "a whole number";
        deserialize_f64 => visit_f64: f64, "a number";
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.text.trim().to_ascii_lowercase().as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => Err(self.invalid("true or false")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    /// `a, b, c` (YAML lists arrive joined with commas).
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let key = self.key;
        let items = self
            .text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        visitor.visit_seq(Items {
            key,
            items: items.into_iter(),
        })
    }

    /// A unit variant by name, in any case.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let text = self.text.trim();
        let Some(variant) = variants.iter().find(|v| v.eq_ignore_ascii_case(text)) else {
            return Err(DecodeError::new(format!(
                "option '{}' = '{}' is not one of: {}",
                self.key,
                self.text,
                variants.join(", ")
            )));
        };
        let variant: StrDeserializer<'_, DecodeError> = variant.into_deserializer();
        visitor.visit_enum(variant)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i128 u128 f32 char str string bytes byte_buf unit unit_struct tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct Items<'a, I: Iterator<Item = &'a str>> {
    key: &'a str,
    items: I,
}

impl<'de, 'a, I: Iterator<Item = &'a str>> SeqAccess<'de> for Items<'a, I> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        match self.items.next() {
            None => Ok(None),
            Some(text) => seed
                .deserialize(Text {
                    key: self.key,
                    text,
                })
                .map(Some),
        }
    }
}
