//! `profilestore schema ...`: a tenant's customer-attribute schema, mirroring
//! `/v1/customer-attributes`, for scripts and first setup.

use crate::admin::Admin;
use crate::api::v1::attributes::AttributeView;
use anyhow::bail;
use clap::{Args, Subcommand};
use profilestore_core::DomainError;
use profilestore_core::schema::{AttributeDefinition, AttributeType, Constraints};

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// List the tenant's attributes (id order).
    List {
        /// Tenant id or name.
        #[arg(long)]
        tenant: String,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Define an attribute and print it as JSON.
    Add(AddArgs),
    /// Print one attribute as JSON.
    Show {
        /// Tenant id or name.
        #[arg(long)]
        tenant: String,
        name: String,
    },
    /// Retire an attribute (writes refused, values kept), or with --purge remove it and its values.
    Retire {
        /// Tenant id or name.
        #[arg(long)]
        tenant: String,
        name: String,
        /// Also remove its values from every profile, and the definition.
        #[arg(long)]
        purge: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Tenant id or name.
    #[arg(long)]
    tenant: String,
    /// Identifier-like, unique per tenant, not a default attribute.
    #[arg(long)]
    name: String,
    /// string, integer, decimal, boolean, date, datetime, email, msisdn, enum or list.
    #[arg(long = "type", value_parser = parse_type)]
    attribute_type: AttributeType,
    #[arg(long)]
    required: bool,
    /// Indexed for lookups; duplicates refused.
    #[arg(long)]
    unique: bool,
    #[arg(long)]
    description: Option<String>,
    /// The values of an enum, comma-separated.
    #[arg(long, value_delimiter = ',')]
    values: Vec<String>,
    /// Lower bound (numbers, dates, datetimes).
    #[arg(long, allow_hyphen_values = true)]
    min: Option<String>,
    /// Upper bound (numbers, dates, datetimes).
    #[arg(long, allow_hyphen_values = true)]
    max: Option<String>,
    #[arg(long)]
    min_length: Option<u32>,
    #[arg(long)]
    max_length: Option<u32>,
    /// A regular expression the whole string must match.
    #[arg(long)]
    pattern: Option<String>,
    #[arg(long)]
    max_items: Option<u32>,
    /// Given to new customers that lack the attribute.
    #[arg(long, allow_hyphen_values = true)]
    default: Option<String>,
}

fn parse_type(text: &str) -> Result<AttributeType, String> {
    AttributeType::ALL
        .into_iter()
        .find(|t| t.as_str() == text)
        .ok_or_else(|| {
            let names: Vec<_> = AttributeType::ALL.iter().map(|t| t.as_str()).collect();
            format!("one of {}", names.join(", "))
        })
}

fn print(definition: AttributeDefinition) -> anyhow::Result<()> {
    println!(
        "{}",
        serde_json::to_string(&AttributeView::from(definition))?
    );
    Ok(())
}

/// A refusal of the registry as a message naming what is wrong.
fn refused(error: DomainError) -> anyhow::Error {
    match error {
        DomainError::InvalidDefinition { errors } => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("invalid definition: {}", fields.join("; "))
        }
        DomainError::SchemaConflict { reason, sample, .. } if !sample.is_empty() => {
            anyhow::anyhow!("{reason} (for example: {})", sample.join(", "))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn run(command: SchemaCommand, admin: &Admin) -> anyhow::Result<()> {
    match command {
        SchemaCommand::List { tenant, json } => {
            let tenant = admin.tenant(&tenant).await?;
            let schema = admin.store.schema(&tenant.tenant_id).await?;
            let mut definitions: Vec<AttributeDefinition> = schema.definitions().cloned().collect();
            definitions.sort_by_key(|d| d.id);
            if json {
                let views: Vec<AttributeView> = definitions.into_iter().map(Into::into).collect();
                println!("{}", serde_json::to_string(&views)?);
            } else {
                println!("{:>6}  {:<24} {:<9} flags", "id", "name", "type");
                for d in definitions {
                    let flags: Vec<&str> = [
                        (d.required, "required"),
                        (d.unique, "unique"),
                        (d.retired, "retired"),
                        (d.implicit, "implicit"),
                    ]
                    .into_iter()
                    .filter_map(|(on, name)| on.then_some(name))
                    .collect();
                    println!(
                        "{:>6}  {:<24} {:<9} {}",
                        d.id,
                        d.name,
                        d.attribute_type.as_str(),
                        flags.join(",")
                    );
                }
            }
        }
        SchemaCommand::Add(args) => {
            let tenant = admin.tenant(&args.tenant).await?;
            let definition = AttributeDefinition {
                id: 0,
                name: args.name,
                attribute_type: args.attribute_type,
                required: args.required,
                unique: args.unique,
                description: args.description,
                values: args.values,
                constraints: Constraints {
                    min: args.min,
                    max: args.max,
                    min_length: args.min_length,
                    max_length: args.max_length,
                    pattern: args.pattern,
                    max_items: args.max_items,
                },
                default: args.default,
                retired: false,
                implicit: false,
            };
            print(
                admin
                    .store
                    .create_definition(&tenant.tenant_id, definition)
                    .await?
                    .map_err(refused)?,
            )?;
        }
        SchemaCommand::Show { tenant, name } => {
            let tenant = admin.tenant(&tenant).await?;
            let schema = admin.store.schema(&tenant.tenant_id).await?;
            let Some(definition) = schema.get(&name).cloned() else {
                bail!("tenant {} has no attribute {name:?}", tenant.name);
            };
            print(definition)?;
        }
        SchemaCommand::Retire {
            tenant,
            name,
            purge,
        } => {
            let tenant = admin.tenant(&tenant).await?;
            print(
                admin
                    .store
                    .retire_definition(&tenant.tenant_id, &name, purge)
                    .await?
                    .map_err(refused)?,
            )?;
        }
    }
    Ok(())
}
