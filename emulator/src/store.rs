//! The emulator's state: JSON documents per collection plus a small key/value table,
//! in SQLite. One connection behind a mutex; every write runs in one transaction, so a
//! validation and the insert it guards are atomic.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;

/// A storage failure; never caused by client input.
#[derive(Debug)]
pub struct StoreError(pub String);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(e.to_string())
    }
}

pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (collection, id)
);
";

impl Store {
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError(e.to_string()))?;
        }
        let conn = Connection::open(path)?;
        // WAL keeps a reader (another comgmt process inspecting the file) from blocking us.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Self::init(conn)
    }

    pub fn open_memory() -> Result<Store, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store, StoreError> {
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Run `f` in a transaction; commit when it returns Ok, roll back otherwise.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = guard.transaction().map_err(StoreError::from)?;
        let out = f(&Db { conn: &tx })?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Run `f` against a consistent view (also a transaction, never committed).
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = guard.transaction().map_err(StoreError::from)?;
        f(&Db { conn: &tx })
    }
}

/// Access to the documents inside one transaction.
pub struct Db<'a> {
    conn: &'a Connection,
}

/// A stored document with its insertion sequence number (used for stable paging).
pub struct Row {
    pub seq: i64,
    pub doc: Value,
}

impl Db<'_> {
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn get(&self, collection: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM docs WHERE collection = ?1 AND id = ?2",
                params![collection, id],
                |r| r.get(0),
            )
            .optional()?;
        match body {
            Some(b) => Ok(Some(serde_json::from_str(&b)?)),
            None => Ok(None),
        }
    }

    /// All documents of a collection in insertion order.
    pub fn list(&self, collection: &str) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, body FROM docs WHERE collection = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([collection], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, body) = row?;
            out.push(Row {
                seq,
                doc: serde_json::from_str(&body)?,
            });
        }
        Ok(out)
    }

    pub fn docs(&self, collection: &str) -> Result<Vec<Value>, StoreError> {
        Ok(self.list(collection)?.into_iter().map(|r| r.doc).collect())
    }

    pub fn insert(&self, collection: &str, id: &str, doc: &Value) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO docs (collection, id, body) VALUES (?1, ?2, ?3)",
            params![collection, id, serde_json::to_string(doc)?],
        )?;
        Ok(())
    }

    pub fn update(&self, collection: &str, id: &str, doc: &Value) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE docs SET body = ?3 WHERE collection = ?1 AND id = ?2",
            params![collection, id, serde_json::to_string(doc)?],
        )?;
        Ok(())
    }

    pub fn delete(&self, collection: &str, id: &str) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM docs WHERE collection = ?1 AND id = ?2",
            params![collection, id],
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn insert_list_update_delete() {
        let s = Store::open_memory().unwrap();
        s.write(|db| {
            db.insert("c", "a", &json!({"id": "a"}))?;
            db.insert("c", "b", &json!({"id": "b"}))?;
            db.update("c", "a", &json!({"id": "a", "x": 1}))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
        let (list, gone) = s
            .write(|db| {
                let gone = db.delete("c", "b")?;
                Ok::<_, StoreError>((db.docs("c")?, gone))
            })
            .unwrap();
        assert!(gone);
        assert_eq!(list, vec![json!({"id": "a", "x": 1})]);
    }

    #[test]
    fn failed_write_rolls_back() {
        let s = Store::open_memory().unwrap();
        let r: Result<(), StoreError> = s.write(|db| {
            db.insert("c", "a", &json!({}))?;
            Err(StoreError("boom".into()))
        });
        assert!(r.is_err());
        let n = s
            .read(|db| Ok::<_, StoreError>(db.docs("c")?.len()))
            .unwrap();
        assert_eq!(n, 0);
    }
}
