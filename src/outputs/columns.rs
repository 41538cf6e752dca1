//! The field names of a row type, from its `Deserialize` implementation: what a CSV header of
//! the type holds, without a second list kept by hand.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Stops deserialisation as soon as the struct's fields are known.
#[derive(Debug)]
struct Found(&'static [&'static str]);

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fields found")
    }
}
impl std::error::Error for Found {}
impl de::Error for Found {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Found(&[])
    }
}

struct Fields;

impl<'de> Deserializer<'de> for Fields {
    type Error = Found;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
        Err(Found(&[]))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Found> {
        Err(Found(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The fields of struct `T`, in declaration order (empty for a type that is not a struct).
pub fn columns<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(Fields) {
        Ok(_) => &[],
        Err(Found(fields)) => fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Row {
        a: u32,
        #[serde(rename = "b_s")]
        b: f64,
    }

    #[test]
    fn columns_are_the_serialized_field_names() {
        assert_eq!(columns::<Row>(), ["a", "b_s"]);
        assert!(columns::<u32>().is_empty());
    }
}
