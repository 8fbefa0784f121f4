//! The emulator's integration tests, one binary: its endpoints and scripted
//! agent over real HTTP, and the official Python SDK against it.

mod agent;
mod api;
mod fidelity;
mod generic;
mod layers;
mod limits;
mod oauth;
mod python_sdk;
mod schema;
mod support;
mod work;
