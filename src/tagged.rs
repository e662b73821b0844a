//! Internally tagged enums (`{"type": "submitCode", "code": "…"}`) without serde's buffering.
//!
//! Why: serde's `#[serde(tag = "…")]` reads the whole object into a private `Content` tree
//! before it knows the variant, then deserializes every field type a second time from that
//! tree. For the flow state and inputs that doubled the deserialization code of every nested
//! type (~140 KB of wasm before `wasm-opt`, shipped in both the Worker and the npm package).
//!
//! Here the tag must be the object's first field: that is how serde writes tagged enums (and
//! how [`tagged_enum!`] writes them), so stored states always qualify, and the JS package puts
//! `type` first before it hands an input over. The variant's fields are then read straight from
//! the same map, with the same deserializer as everything else. The JSON shape is unchanged.
//!
//! An enum opts in with `#[serde(remote = "Self")]` (serde then derives its externally tagged
//! code as inherent functions) and [`tagged_enum!`], which implements the serde traits through
//! [`TagFirst`] and [`TagSerializer`].

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, VariantAccess, Visitor,
};
use serde::ser::{self, Impossible, SerializeMap, Serializer};
use std::fmt;

/// Implements `Serialize` and `Deserialize` for an enum derived with
/// `#[serde(remote = "Self")]`, tagged by the field `$tag`.
#[macro_export]
macro_rules! tagged_enum {
    ($ty:ty, $tag:literal) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, $crate::tagged::TagSerializer::new($tag, s))
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$ty>::deserialize($crate::tagged::TagFirst::new($tag, d))
            }
        }
    };
}

/// Reads an enum from an object whose first field names the variant.
pub struct TagFirst<D> {
    tag: &'static str,
    inner: D,
}

impl<D> TagFirst<D> {
    /// Wraps the deserializer the value comes from.
    pub fn new(tag: &'static str, inner: D) -> Self {
        Self { tag, inner }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TagFirst<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(TaggedMap {
            tag: self.tag,
            visitor,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// Checks that the first key is the tag, then lets the enum visitor read the variant.
struct TaggedMap<V> {
    tag: &'static str,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TaggedMap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object whose first field is `{}`", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        match map.next_key_seed(KeyIs(self.tag))? {
            None => Err(A::Error::missing_field(self.tag)),
            Some(false) => Err(A::Error::custom(format_args!(
                "`{}` must be the first field of the object",
                self.tag
            ))),
            Some(true) => self.visitor.visit_enum(Variant(map)),
        }
    }
}

/// A map key compared with an expected name, without allocating it.
struct KeyIs(&'static str);

impl<'de> DeserializeSeed<'de> for KeyIs {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

/// The rest of the map, after the tag: the tag's value names the variant, the other
/// entries are its fields.
struct Variant<A>(A);

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Self), A::Error> {
        let variant = self.0.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn unit_variant(mut self) -> Result<(), A::Error> {
        match self.0.next_key::<String>()? {
            None => Ok(()),
            Some(field) => Err(A::Error::unknown_field(&field, &[])),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        seed.deserialize(de::value::MapAccessDeserializer::new(self.0))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _: V) -> Result<V::Value, A::Error> {
        Err(A::Error::custom("tuple variants cannot be tagged"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }
}

/// Writes an enum as one object: the tag first, then the variant's fields.
pub struct TagSerializer<S> {
    tag: &'static str,
    inner: S,
}

impl<S> TagSerializer<S> {
    /// Wraps the serializer the value goes to.
    pub fn new(tag: &'static str, inner: S) -> Self {
        Self { tag, inner }
    }
}

fn untaggable<E: ser::Error>() -> E {
    E::custom("only unit, struct and newtype-of-struct variants can be tagged")
}

/// The `Serializer` methods a tagged enum never reaches.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err(untaggable())
        })*
    };
}

/// The compound `Serializer` methods a tagged enum never reaches.
macro_rules! refuse_compound {
    () => {
        fn serialize_some<T: ?Sized + ser::Serialize>(
            self,
            _: &T,
        ) -> Result<Self::Ok, Self::Error> {
            Err(untaggable())
        }
        fn serialize_newtype_struct<T: ?Sized + ser::Serialize>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Self::Error> {
            Err(untaggable())
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
            Err(untaggable())
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
            Err(untaggable())
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Self::Error> {
            Err(untaggable())
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Self::Error> {
            Err(untaggable())
        }
    };
}

impl<S: Serializer> Serializer for TagSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = Fields<S::SerializeMap>;

    refuse! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
    }
    refuse_compound!();

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        let mut map = self.inner.serialize_map(Some(1))?;
        map.serialize_entry(self.tag, variant)?;
        map.end()
    }

    fn serialize_newtype_variant<T: ?Sized + ser::Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(WithTag {
            tag: self.tag,
            variant,
            inner: self.inner,
        })
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Err(untaggable())
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Err(untaggable())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let mut map = self.inner.serialize_map(len.checked_add(1))?;
        map.serialize_entry(self.tag, variant)?;
        Ok(Fields(map))
    }
}

/// Serializes a newtype variant's struct with the tag entry in front of its fields.
struct WithTag<S> {
    tag: &'static str,
    variant: &'static str,
    inner: S,
}

impl<S: Serializer> Serializer for WithTag<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Fields<S::SerializeMap>;
    type SerializeStruct = Fields<S::SerializeMap>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    refuse! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none();
        serialize_unit_variant(&'static str, u32, &'static str);
    }
    refuse_compound!();

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        let mut map = self.inner.serialize_map(Some(1))?;
        map.serialize_entry(self.tag, self.variant)?;
        map.end()
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<S::Ok, S::Error> {
        self.serialize_unit()
    }

    fn serialize_newtype_variant<T: ?Sized + ser::Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(untaggable())
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let mut map = self
            .inner
            .serialize_map(len.and_then(|n| n.checked_add(1)))?;
        map.serialize_entry(self.tag, self.variant)?;
        Ok(Fields(map))
    }

    fn serialize_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(untaggable())
    }
}

/// A struct's (or map's) entries, written into the map that already holds the tag.
pub struct Fields<M>(M);

impl<M: SerializeMap> ser::SerializeStruct for Fields<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<T: ?Sized + ser::Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

impl<M: SerializeMap> ser::SerializeStructVariant for Fields<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<T: ?Sized + ser::Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

impl<M: SerializeMap> SerializeMap for Fields<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_key<T: ?Sized + ser::Serialize>(&mut self, key: &T) -> Result<(), M::Error> {
        self.0.serialize_key(key)
    }

    fn serialize_value<T: ?Sized + ser::Serialize>(&mut self, value: &T) -> Result<(), M::Error> {
        self.0.serialize_value(value)
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Inner {
        a: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        b: Option<String>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(
        remote = "Self",
        rename_all = "camelCase",
        rename_all_fields = "camelCase",
        deny_unknown_fields
    )]
    enum Shape {
        Newtype(Inner),
        Struct { one_field: u32 },
        Unit,
    }
    crate::tagged_enum!(Shape, "kind");

    /// The same enum as serde tags it, to prove the JSON is the same.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(
        tag = "kind",
        rename_all = "camelCase",
        rename_all_fields = "camelCase",
        deny_unknown_fields
    )]
    enum SerdeShape {
        Newtype(Inner),
        Struct { one_field: u32 },
        Unit,
    }

    fn both() -> Vec<(Shape, SerdeShape)> {
        vec![
            (
                Shape::Newtype(Inner { a: 1, b: None }),
                SerdeShape::Newtype(Inner { a: 1, b: None }),
            ),
            (
                Shape::Newtype(Inner {
                    a: 2,
                    b: Some("x".into()),
                }),
                SerdeShape::Newtype(Inner {
                    a: 2,
                    b: Some("x".into()),
                }),
            ),
            (
                Shape::Struct { one_field: 3 },
                SerdeShape::Struct { one_field: 3 },
            ),
            (Shape::Unit, SerdeShape::Unit),
        ]
    }

    #[test]
    fn writes_what_serde_writes_and_reads_it_back() -> Result<(), serde_json::Error> {
        for (ours, serdes) in both() {
            let text = serde_json::to_string(&ours)?;
            assert_eq!(text, serde_json::to_string(&serdes)?);
            assert_eq!(serde_json::from_str::<Shape>(&text)?, ours);
            assert_eq!(serde_json::from_str::<SerdeShape>(&text)?, serdes);
        }
        Ok(())
    }

    fn error_of(value: serde_json::Value) -> String {
        match serde_json::from_value::<Shape>(value) {
            Ok(v) => format!("unexpectedly read {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn refuses_what_serde_refuses_with_a_clear_message() {
        assert!(error_of(json!({})).contains("missing field `kind`"));
        assert!(error_of(json!({"kind": "nope"})).contains("unknown variant `nope`"));
        assert!(error_of(json!({"kind": "unit", "x": 1})).contains("unknown field `x`"));
        assert!(error_of(json!({"kind": "newtype", "a": 1, "x": 1})).contains("unknown field `x`"));
        assert!(
            error_of(json!({"kind": "struct", "oneField": 1, "x": 1}))
                .contains("unknown field `x`")
        );
        assert!(error_of(json!({"kind": "struct"})).contains("missing field `oneField`"));
        assert!(error_of(json!("unit")).contains("an object whose first field is `kind`"));
        assert!(error_of(json!([1])).contains("an object whose first field is `kind`"));
    }

    #[test]
    fn the_tag_must_come_first() {
        let text = r#"{"a": 1, "kind": "newtype"}"#;
        assert!(serde_json::from_str::<SerdeShape>(text).is_ok());
        let err = serde_json::from_str::<Shape>(text)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(matches!(err, Err(m) if m.contains("`kind` must be the first field")));
    }
}
