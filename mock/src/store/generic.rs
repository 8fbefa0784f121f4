//! The state of the generic emulation (`resources::generic`): collections
//! of items keyed by the concrete path that lists them
//! (`/v1/organizations/workspaces/wrkspc_1/members`), each item under the ID
//! its path names, newest last; and singletons keyed by their path.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

#[derive(Default)]
pub struct Tables {
    collections: HashMap<String, Vec<(String, Value)>>,
    /// Collections filled with example items on first use (those the API
    /// has no way to create, such as API keys or users).
    seeded: HashSet<String>,
    pub singletons: HashMap<String, Value>,
}

impl Tables {
    /// The items of a collection, oldest first.
    pub fn items(&self, coll: &str) -> &[(String, Value)] {
        self.collections.get(coll).map_or(&[], Vec::as_slice)
    }

    pub fn get(&self, coll: &str, id: &str) -> Option<&Value> {
        self.items(coll)
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, coll: &str, id: &str) -> Option<&mut Value> {
        let items = self.collections.get_mut(coll)?;
        items.iter_mut().find(|(k, _)| k == id).map(|(_, v)| v)
    }

    /// Adds an item, or replaces the one with the same ID.
    pub fn put(&mut self, coll: &str, id: &str, item: Value) {
        let items = self.collections.entry(coll.to_string()).or_default();
        match items.iter_mut().find(|(k, _)| k == id) {
            Some(slot) => slot.1 = item,
            None => items.push((id.to_string(), item)),
        }
    }

    pub fn remove(&mut self, coll: &str, id: &str) -> Option<Value> {
        let items = self.collections.get_mut(coll)?;
        let at = items.iter().position(|(k, _)| k == id)?;
        Some(items.remove(at).1)
    }

    /// Whether the collection still needs its example items (first use).
    pub fn needs_seed(&mut self, coll: &str) -> bool {
        self.seeded.insert(coll.to_string())
    }
}
