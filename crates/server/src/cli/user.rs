//! `profilestore user ...`: the admin console's users. A user belongs to one tenant, or is an
//! operator (`--operator`) who may act on every tenant. The password is read from standard
//! input (one line) when it is not a terminal; otherwise, or when that line is empty, a random
//! one is generated and printed once.

use crate::admin::Admin;
use crate::console::password::generate_password;
use crate::console::users::{create_user, find_user, set_password};
use clap::{ArgGroup, Subcommand};
use serde_json::json;
use std::io::{BufRead, IsTerminal};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a console user; the password comes from stdin, or is generated and printed.
    #[command(group(ArgGroup::new("scope").required(true).args(["tenant", "operator"])))]
    Create {
        /// The tenant (id or name) the user manages.
        #[arg(long)]
        tenant: Option<String>,
        /// An operator, who may act on every tenant (instead of --tenant).
        #[arg(long)]
        operator: bool,
        /// The address the user signs in with (stored lowercased; unique).
        #[arg(long)]
        email: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's console users, or the operators.
    #[command(group(ArgGroup::new("scope").required(true).args(["tenant", "operators"])))]
    List {
        #[arg(long)]
        tenant: Option<String>,
        /// List the operators.
        #[arg(long)]
        operators: bool,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (from stdin, or generated and printed); their sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Delete a user; their sessions end.
    Delete {
        #[arg(long)]
        email: String,
    },
}

/// The password on stdin (its first line), or None when stdin is a terminal or empty.
fn password_from_stdin() -> anyhow::Result<Option<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok((!line.is_empty()).then_some(line))
}

/// The password to set, and whether it was generated (then it is printed, once).
fn password() -> anyhow::Result<(String, bool)> {
    Ok(match password_from_stdin()? {
        Some(password) => (password, false),
        None => (generate_password(), true),
    })
}

pub async fn run(command: UserCommand, admin: &Admin) -> anyhow::Result<()> {
    let store = &*admin.store;
    match command {
        UserCommand::Create {
            tenant,
            operator: _,
            email,
            json,
        } => {
            let tenant = match tenant {
                Some(tenant) => Some(admin.tenant(&tenant).await?),
                None => None,
            };
            let (password, generated) = password()?;
            let tenant_id = tenant.as_ref().map(|t| t.tenant_id.clone());
            let user = create_user(store, tenant_id, &email, password.clone()).await?;
            let scope = tenant.map_or_else(|| "operator".to_owned(), |t| t.name);
            let shown = generated.then_some(password);
            if json {
                println!(
                    "{}",
                    json!({"user_id": user.user_id, "email": user.email,
                           "tenant_id": user.tenant_id, "operator": user.tenant_id.is_none(),
                           "password": shown})
                );
            } else {
                println!(
                    "user_id:  {}\nemail:    {}\ntenant:   {scope}",
                    user.user_id, user.email
                );
                if let Some(password) = shown {
                    println!("password: {password}");
                }
            }
        }
        UserCommand::List {
            tenant,
            operators: _,
            json,
        } => {
            let tenant_id = match tenant {
                Some(tenant) => Some(admin.tenant(&tenant).await?.tenant_id),
                None => None,
            };
            let users = store.list_console_users(tenant_id.as_deref()).await?;
            if json {
                let items: Vec<_> = users
                    .iter()
                    .map(|u| json!({"user_id": u.user_id, "email": u.email, "tenant_id": u.tenant_id,
                                    "created_at": u.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}))
                    .collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                for user in &users {
                    println!("{}  {}", user.user_id, user.email);
                }
            }
        }
        UserCommand::SetPassword { email } => {
            let (password, generated) = password()?;
            set_password(store, &email, password.clone()).await?;
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::Delete { email } => {
            let user = find_user(store, &email).await?;
            store.delete_console_user(&user.user_id).await?;
            println!("deleted {}", user.email);
        }
    }
    Ok(())
}
