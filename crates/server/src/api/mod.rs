//! Protocol adapters: each turns its wire format into store/core operations and back.

pub mod compat;
pub mod health;
pub mod json_value;
pub mod sdk;
pub mod v1;
