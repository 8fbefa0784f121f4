//! The dispatch table: which resource handler answers each operation of the
//! endpoint table (groups without their `beta:` prefix); every operation
//! no hand-written resource answers goes to the generic emulation.

use std::sync::Arc;

use crate::resources::*;
use crate::store::Shared;

/// Runs the handler for an operation (group without its `beta:` prefix):
/// a hand-written resource, else the generic emulation.
pub async fn dispatch(shared: &Arc<Shared>, group: &str, verb: &str, req: &Req) -> Answer {
    let s = shared;
    match (group, verb) {
        ("messages", "create") => messages::create(s, req),
        ("messages", "count-tokens") => messages::count_tokens(s, req),
        ("completions", "create") => messages::complete(s, req),
        ("messages:batches", "create") => batches::create(s, req),
        ("messages:batches", "retrieve") => batches::retrieve(s, req),
        ("messages:batches", "list") => batches::list(s, req),
        ("messages:batches", "cancel") => batches::cancel(s, req),
        ("messages:batches", "delete") => batches::delete(s, req),
        ("messages:batches", "results") => batches::results(s, req),
        ("models", "retrieve") => models::retrieve(s, req),
        ("models", "list") => models::list(s, req),
        ("agents", "create") => agents::create(s, req),
        ("agents", "retrieve") => agents::retrieve(s, req),
        ("agents", "update") => agents::update(s, req),
        ("agents", "list") => agents::list(s, req),
        ("agents", "archive") => agents::archive(s, req),
        ("agents:versions", "list") => agents::versions(s, req),
        ("environments", "create") => environments::create(s, req),
        ("environments", "retrieve") => environments::retrieve(s, req),
        ("environments", "update") => environments::update(s, req),
        ("environments", "list") => environments::list(s, req),
        ("environments", "delete") => environments::delete(s, req),
        ("environments", "archive") => environments::archive(s, req),
        ("environments:work", "poll") => work::poll(s, req).await,
        ("environments:work", "ack") => work::ack(s, req),
        ("environments:work", "heartbeat") => work::heartbeat(s, req),
        ("environments:work", "stop") => work::stop(s, req),
        ("environments:work", "retrieve") => work::retrieve(s, req),
        ("environments:work", "update") => work::update(s, req),
        ("environments:work", "list") => work::list(s, req),
        ("environments:work", "stats") => work::stats(s, req),
        ("sessions", "create") => sessions::create(s, req),
        ("sessions", "retrieve") => sessions::retrieve(s, req),
        ("sessions", "update") => sessions::update(s, req),
        ("sessions", "list") => sessions::list(s, req),
        ("sessions", "delete") => sessions::delete(s, req),
        ("sessions", "archive") => sessions::archive(s, req),
        ("sessions:events", "list") | ("sessions:threads:events", "list") => events::list(s, req),
        ("sessions:events", "send") => events::send(s, req),
        ("sessions:events", "stream") | ("sessions:threads:events", "stream") => {
            events::stream(s, req)
        }
        ("sessions:resources", "add") => sessions::resource_add(s, req),
        ("sessions:resources", "retrieve") => sessions::resource_retrieve(s, req),
        ("sessions:resources", "update") => sessions::resource_update(s, req),
        ("sessions:resources", "list") => sessions::resource_list(s, req),
        ("sessions:resources", "delete") => sessions::resource_delete(s, req),
        ("sessions:threads", "retrieve") => sessions::thread_retrieve(s, req),
        ("sessions:threads", "list") => sessions::thread_list(s, req),
        ("sessions:threads", "archive") => sessions::thread_archive(s, req),
        ("files", "upload") => files::upload(s, req),
        ("files", "list") => files::list(s, req),
        ("files", "retrieve-metadata") => files::retrieve(s, req),
        ("files", "download") => files::download(s, req),
        ("files", "delete") => files::delete(s, req),
        ("vaults", "create") => vaults::create(s, req),
        ("vaults", "retrieve") => vaults::retrieve(s, req),
        ("vaults", "update") => vaults::update(s, req),
        ("vaults", "list") => vaults::list(s, req),
        ("vaults", "delete") => vaults::delete(s, req),
        ("vaults", "archive") => vaults::archive(s, req),
        ("vaults:credentials", "create") => vaults::cred_create(s, req),
        ("vaults:credentials", "retrieve") => vaults::cred_retrieve(s, req),
        ("vaults:credentials", "update") => vaults::cred_update(s, req),
        ("vaults:credentials", "list") => vaults::cred_list(s, req),
        ("vaults:credentials", "delete") => vaults::cred_delete(s, req),
        ("vaults:credentials", "archive") => vaults::cred_archive(s, req),
        ("vaults:credentials", "mcp-oauth-validate") => vaults::cred_validate(s, req),
        ("memory-stores", "create") => memory::store_create(s, req),
        ("memory-stores", "retrieve") => memory::store_retrieve(s, req),
        ("memory-stores", "update") => memory::store_update(s, req),
        ("memory-stores", "list") => memory::store_list(s, req),
        ("memory-stores", "delete") => memory::store_delete(s, req),
        ("memory-stores", "archive") => memory::store_archive(s, req),
        ("memory-stores:memories", "create") => memory::create(s, req),
        ("memory-stores:memories", "retrieve") => memory::retrieve(s, req),
        ("memory-stores:memories", "update") => memory::update(s, req),
        ("memory-stores:memories", "list") => memory::list(s, req),
        ("memory-stores:memories", "delete") => memory::delete(s, req),
        ("memory-stores:memory-versions", "list") => memory::versions_list(s, req),
        ("memory-stores:memory-versions", "retrieve") => memory::version_retrieve(s, req),
        ("memory-stores:memory-versions", "redact") => memory::version_redact(s, req),
        _ => generic::handle(s, req),
    }
}
