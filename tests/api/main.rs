//! Black-box tests of the whole server: a real server on a random port, a
//! fresh database per test (SQLite, or PostgreSQL with
//! `TRESTLE_TEST_DATABASE_URL`), GraphQL over HTTP.
//!
//! Three modules are shared: `helpers` (the server and a client for it),
//! `fixtures` (typed set-up, the cast of roles, signed tokens, a WebSocket
//! client) and `generate` (operations generated from the schema). Every
//! other module holds tests and imports from these alone; who may do what
//! is said once, in `authorization`.

mod account;
mod architecture;
mod auth;
mod authorization;
mod baselines;
mod brief;
mod callers;
mod cli;
mod clients;
#[cfg(unix)]
mod connections;
mod conversation;
mod costs;
mod cycle_limits;
mod decisions;
mod dependencies;
mod examples;
mod fixtures;
mod forecast;
mod fuzz_operations;
mod generate;
mod goals;
mod helpers;
mod http;
mod idempotency;
mod lifecycle;
mod limits;
mod links;
mod long_plans;
mod members;
mod metrics;
mod migrations;
mod named_people;
mod planning;
mod pooler;
mod portfolios;
mod priorities;
mod programs;
mod replicas;
mod risks;
mod rows;
mod schema;
mod scripts;
mod sessions;
mod spending;
mod statements;
mod status_updates;
mod storage;
mod subscriptions;
mod teams;
mod tokens;
mod transfer;
mod visibility;
mod webhooks;
mod workstreams;
