//! The Codefresh CLI's `-o` formats for `get builds` and `get pipeline`, so scripts written
//! against that CLI read the same output: a table by default (`wide` with more columns),
//! `json` (tab-indented; one object for one resource, an array for several), `yaml` (one
//! document; several under `items`), `id` and `name` (one per line), and `jsonArray` /
//! `yamlArray` (always a list).

use serde::Serialize;
use serde_norway::{Mapping, Value};

use crate::cli::args::Args;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Wide,
    Json,
    Yaml,
    Id,
    Name,
    JsonArray,
    YamlArray,
}

impl Format {
    pub fn from_args(args: &Args) -> Result<Self> {
        Ok(match args.value("--output").map(str::trim) {
            None | Some("" | "text" | "table" | "default") => Format::Table,
            Some("wide") => Format::Wide,
            Some("json") => Format::Json,
            Some("yaml") => Format::Yaml,
            Some("id") => Format::Id,
            Some("name") => Format::Name,
            Some("jsonArray") => Format::JsonArray,
            Some("yamlArray") => Format::YamlArray,
            Some(other) => {
                return Err(Error::usage(format!(
                    "-o/--output `{other}`: use json, yaml, wide, id, name, jsonArray or yamlArray (a table when left out)"
                )))
            }
        })
    }
}

/// One resource as the Codefresh CLI shows it: the object `-o json|yaml` prints, in its key
/// order, and the columns of its table.
pub struct Entity {
    pub info: Mapping,
    pub columns: Vec<(&'static str, String)>,
    /// The columns `-o wide` adds, each after the column it names (`None`: first).
    pub wide: Vec<(Option<&'static str>, &'static str, String)>,
    pub id: String,
    /// `pipeline/NAME`, as `-o name` prints it.
    pub name: String,
    /// JSON leaves out the fields of `info` that are null (they are absent, not null).
    pub json_drops_nulls: bool,
}

impl Entity {
    fn row(&self, wide: bool) -> Vec<(&'static str, String)> {
        let mut row = self.columns.clone();
        if wide {
            for (after, head, value) in &self.wide {
                let at = after
                    .and_then(|a| row.iter().position(|(h, _)| *h == a))
                    .map_or(0, |i| i + 1);
                row.insert(at, (head, value.clone()));
            }
        }
        row
    }
}

/// The lines stdout gets for `entities` in `format`.
pub fn render(format: Format, entities: &[Entity]) -> Result<Vec<String>> {
    let infos = || -> Vec<Value> {
        entities
            .iter()
            .map(|e| Value::Mapping(e.info.clone()))
            .collect()
    };
    let json_infos = || -> Vec<Value> {
        entities
            .iter()
            .map(|e| {
                let mut info = e.info.clone();
                if e.json_drops_nulls {
                    info.retain(|_, v| !v.is_null());
                }
                Value::Mapping(info)
            })
            .collect()
    };
    let one_or_all = || match json_infos().as_slice() {
        [one] => one.clone(),
        all => Value::Sequence(all.to_vec()),
    };
    let items = |list: Vec<Value>| {
        let mut m = Mapping::new();
        m.insert("items".into(), Value::Sequence(list));
        Value::Mapping(m)
    };
    Ok(match format {
        Format::Table | Format::Wide => vec![table(entities, format == Format::Wide)],
        Format::Json => vec![json(&one_or_all())?],
        Format::JsonArray => vec![json(&Value::Sequence(json_infos()))?],
        Format::Yaml => vec![yaml(&match infos().as_slice() {
            [one] => one.clone(),
            all => items(all.to_vec()),
        })?],
        Format::YamlArray => vec![yaml(&items(infos()))?],
        Format::Id => entities.iter().map(|e| e.id.clone()).collect(),
        Format::Name => entities.iter().map(|e| e.name.clone()).collect(),
    })
}

fn table(entities: &[Entity], wide: bool) -> String {
    let Some(first) = entities.first() else {
        return "no available resources".to_string();
    };
    let head: Vec<String> = first
        .row(wide)
        .iter()
        .map(|(h, _)| h.to_uppercase())
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = entities
        .iter()
        .map(|e| e.row(wide).into_iter().map(|(_, v)| v).collect())
        .collect();
    crate::listing::columns(&head, &rows, 1)
}

/// `JSON.stringify(value, null, '\t')`.
pub fn json(value: &impl Serialize) -> Result<String> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut ser)
        .map_err(|e| Error::api(format!("the answer cannot be shown as JSON: {e}")))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The YAML document, its last line break left to the line that prints it.
pub fn yaml(value: &Value) -> Result<String> {
    let text = crate::yaml::to_string(value);
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

/// A JSON answer as YAML's value, its key order kept (a `serde_json::Value` sorts keys).
pub fn ordered(body: &str) -> std::result::Result<Value, serde_json::Error> {
    serde_json::from_str(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(id: &str) -> Entity {
        let mut info = Mapping::new();
        info.insert("id".into(), id.into());
        info.insert("status".into(), "success".into());
        Entity {
            info,
            columns: vec![("id", id.to_string()), ("status", "success".into())],
            wide: vec![(Some("id"), "pipeline-Id", "p1".into())],
            id: id.to_string(),
            name: format!("workflow/{id}"),
            json_drops_nulls: true,
        }
    }

    #[test]
    fn one_resource_is_an_object_several_a_list() {
        let one = render(Format::Json, &[entity("a")]).unwrap();
        assert_eq!(one, ["{\n\t\"id\": \"a\",\n\t\"status\": \"success\"\n}"]);
        let two = render(Format::Json, &[entity("a"), entity("b")]).unwrap();
        assert!(two[0].starts_with("[\n\t{\n\t\t\"id\": \"a\""), "{two:?}");
        let yaml = render(Format::Yaml, &[entity("a"), entity("b")]).unwrap();
        assert!(yaml[0].starts_with("items:\n- id: a\n"), "{yaml:?}");
        assert_eq!(
            render(Format::Yaml, &[entity("a")]).unwrap(),
            ["id: a\nstatus: success"]
        );
        assert_eq!(
            render(Format::JsonArray, &[entity("a")]).unwrap()[0]
                .chars()
                .next(),
            Some('[')
        );
        assert_eq!(
            render(Format::Id, &[entity("a"), entity("b")]).unwrap(),
            ["a", "b"]
        );
    }

    #[test]
    fn tables_and_wide_tables() {
        let t = render(Format::Table, &[entity("a")]).unwrap();
        assert_eq!(t, ["ID STATUS\na  success"]);
        let w = render(Format::Wide, &[entity("a")]).unwrap();
        assert_eq!(w, ["ID PIPELINE-ID STATUS\na  p1          success"]);
        assert_eq!(
            render(Format::Table, &[]).unwrap(),
            ["no available resources"]
        );
    }

    #[test]
    fn answers_keep_their_key_order() {
        let v = ordered(r#"{"version":"1.0","kind":"pipeline","metadata":{"name":"x"}}"#).unwrap();
        assert_eq!(
            yaml(&v).unwrap(),
            "version: \"1.0\"\nkind: pipeline\nmetadata:\n  name: x"
        );
    }
}
