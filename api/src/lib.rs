//! Trestle: a GraphQL backend for technical program management.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod i18n;
pub mod planning;
pub mod webhooks;
