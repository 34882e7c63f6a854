//! Settings: each flag can also come from the environment (`PROFILESTORE_*`) and from an
//! optional TOML file (`--config`). Precedence: command line, then environment, then file,
//! then the default.

use crate::events::{DeliverySettings, NatsSettings};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use ipnet::IpNet;
use profilestore_store::OpenOptions;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./profilestore-data";
/// The SQLite file inside the data dir.
pub const DATABASE_FILE: &str = "profilestore.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the data lives: shared by `serve` and every admin command.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// TOML file with any of the settings below (command line and environment win over it).
    #[arg(long, env = "PROFILESTORE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and the server secret; created if missing.
    /// [default: ./profilestore-data]
    #[arg(long, env = "PROFILESTORE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://... or postgres://...); overrides --data-dir for the database.
    #[arg(
        long,
        env = "PROFILESTORE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Database connections: the pool's size on PostgreSQL [default: 10], the read pool's on
    /// SQLite [default: 8] (SQLite always has one writer).
    #[arg(
        long,
        env = "PROFILESTORE_DATABASE_POOL_SIZE",
        global = true,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub database_pool_size: Option<u32>,
    /// PostgreSQL statement timeout in milliseconds; 0 leaves the server's setting. Ignored on
    /// SQLite. [default: 0]
    #[arg(long, env = "PROFILESTORE_STATEMENT_TIMEOUT_MS", global = true)]
    pub statement_timeout_ms: Option<u64>,
    /// Log format on stderr. [default: text]
    #[arg(long, env = "PROFILESTORE_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
}

/// Flags of `profilestore serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "PROFILESTORE_LISTEN")]
    pub listen: Option<String>,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, env = "PROFILESTORE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "PROFILESTORE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Proxies (CIDR, comma-separated) whose X-Forwarded-For is believed for the IP allow list.
    #[arg(long, env = "PROFILESTORE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<IpNet>>,
    /// Requests per second per tenant for tenants without their own limit; 0 = unlimited. [default: 0]
    #[arg(long, env = "PROFILESTORE_DEFAULT_RATE_LIMIT")]
    pub default_rate_limit: Option<u32>,
    /// Answer HTTP 200 for every compatible-API code, for strict legacy clients.
    #[arg(long, env = "PROFILESTORE_COMPAT_ALWAYS_200", num_args = 0..=1, default_missing_value = "true")]
    pub compat_always_200: Option<bool>,
    /// How long events are kept (e.g. 7d, 36h); an enabled webhook's undelivered events are
    /// kept until delivered. [default: 7d]
    #[arg(long, env = "PROFILESTORE_EVENT_RETENTION", value_parser = humantime::parse_duration)]
    pub event_retention: Option<Duration>,
    /// Wait before a failed webhook delivery's first retry; doubled per failure (with jitter),
    /// up to 1 h. [default: 1s]
    #[arg(long, env = "PROFILESTORE_WEBHOOK_RETRY_INITIAL", value_parser = humantime::parse_duration)]
    pub webhook_retry_initial: Option<Duration>,
    /// A webhook failing for this long is disabled, with the reason recorded. [default: 24h]
    #[arg(long, env = "PROFILESTORE_WEBHOOK_GIVE_UP_AFTER", value_parser = humantime::parse_duration)]
    pub webhook_give_up_after: Option<Duration>,
    /// How long a node's claim on a webhook lasts unless renewed: how soon another node (or
    /// this one, restarted) takes over the deliveries of a node that died. At least 15s (a
    /// delivery attempt may take 10s). [default: 30s]
    #[arg(long, env = "PROFILESTORE_WEBHOOK_LEASE", value_parser = humantime::parse_duration)]
    pub webhook_lease: Option<Duration>,
    /// Event streams (GET /v1/events/stream) one tenant may have open on this server; one
    /// more is refused with 429 until one closes. [default: 100]
    #[arg(long, env = "PROFILESTORE_MAX_EVENT_STREAMS_PER_TENANT")]
    pub max_event_streams_per_tenant: Option<usize>,
    /// Publish every event to NATS JetStream at this URL (e.g. nats://127.0.0.1:4222).
    #[arg(long, env = "PROFILESTORE_NATS_URL")]
    pub nats_url: Option<String>,
    /// The JetStream stream the events go to (created if missing). [default: PROFILESTORE]
    #[arg(long, env = "PROFILESTORE_NATS_STREAM")]
    pub nats_stream: Option<String>,
    /// Events are published on <prefix>.<tenant_id>.<type>. [default: profilestore]
    #[arg(long, env = "PROFILESTORE_NATS_SUBJECT_PREFIX")]
    pub nats_subject_prefix: Option<String>,
}

/// The TOML file: the same settings, snake_case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_pool_size: Option<u32>,
    statement_timeout_ms: Option<u64>,
    log_format: Option<LogFormat>,
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    trusted_proxies: Option<Vec<IpNet>>,
    default_rate_limit: Option<u32>,
    compat_always_200: Option<bool>,
    #[serde(default, with = "humantime_serde_option")]
    event_retention: Option<Duration>,
    #[serde(default, with = "humantime_serde_option")]
    webhook_retry_initial: Option<Duration>,
    #[serde(default, with = "humantime_serde_option")]
    webhook_give_up_after: Option<Duration>,
    #[serde(default, with = "humantime_serde_option")]
    webhook_lease: Option<Duration>,
    max_event_streams_per_tenant: Option<usize>,
    nats_url: Option<String>,
    nats_stream: Option<String>,
    nats_subject_prefix: Option<String>,
}

/// Durations in the TOML file are written as on the command line ("7d", "1s").
mod humantime_serde_option {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| humantime::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

fn read_file(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}

/// Where the store is, resolved.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Connections to the database (`None`: the backend's default).
    pub database_pool_size: Option<u32>,
    /// PostgreSQL's statement_timeout (`None`: the database server's setting).
    pub statement_timeout: Option<Duration>,
    pub log_format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub store: StoreSettings,
    pub listen: SocketAddr,
    pub tls: Option<TlsSettings>,
    pub trusted_proxies: Vec<IpNet>,
    pub default_rate_limit: u32,
    pub compat_always_200: bool,
    /// How often a server checks the store for admin changes (keys, tenants, apps).
    pub settings_poll: Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// A request body that has not fully arrived by then is abandoned (slow or stalled clients).
    pub body_timeout: Duration,
    pub delivery: DeliverySettings,
}

impl StoreSettings {
    pub fn resolve(args: &StoreArgs) -> anyhow::Result<Self> {
        let file = read_file(args.config.as_deref())?;
        Self::from_parts(args, &file)
    }

    fn from_parts(args: &StoreArgs, file: &FileConfig) -> anyhow::Result<Self> {
        let data_dir = args
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = match args
            .database_url
            .clone()
            .or_else(|| file.database_url.clone())
        {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join(DATABASE_FILE).display()),
        };
        let database_pool_size = args.database_pool_size.or(file.database_pool_size);
        if database_pool_size == Some(0) {
            bail!("database_pool_size must be at least 1");
        }
        let statement_timeout = args
            .statement_timeout_ms
            .or(file.statement_timeout_ms)
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        Ok(StoreSettings {
            data_dir,
            database_url,
            database_pool_size,
            statement_timeout,
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
        })
    }

    /// How the store's connections are set up.
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            max_connections: self.database_pool_size,
            statement_timeout: self.statement_timeout,
        }
    }

    /// Creates the data dir (the secret lives there even when the database is elsewhere).
    pub fn ensure_data_dir(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating data dir {}", self.data_dir.display()))
    }
}

impl ServeSettings {
    pub fn resolve(store_args: &StoreArgs, args: &ServeArgs) -> anyhow::Result<Self> {
        let file = read_file(store_args.config.as_deref())?;
        let store = StoreSettings::from_parts(store_args, &file)?;
        let delivery = delivery_settings(args, &file)?;
        let listen_text = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse().with_context(|| {
            format!("--listen {listen_text:?} is not an address like 127.0.0.1:8080")
        })?;
        let tls = match (
            args.tls_cert.clone().or(file.tls_cert),
            args.tls_key.clone().or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsSettings { cert, key }),
            (None, None) => None,
            _ => bail!("--tls-cert and --tls-key go together"),
        };
        Ok(ServeSettings {
            store,
            listen,
            tls,
            trusted_proxies: args
                .trusted_proxies
                .clone()
                .or(file.trusted_proxies)
                .unwrap_or_default(),
            default_rate_limit: args
                .default_rate_limit
                .or(file.default_rate_limit)
                .unwrap_or(0),
            compat_always_200: args
                .compat_always_200
                .or(file.compat_always_200)
                .unwrap_or(false),
            settings_poll: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            delivery,
        })
    }
}

fn delivery_settings(args: &ServeArgs, file: &FileConfig) -> anyhow::Result<DeliverySettings> {
    let defaults = DeliverySettings::default();
    let settings = DeliverySettings {
        retention: args
            .event_retention
            .or(file.event_retention)
            .unwrap_or(defaults.retention),
        webhook_retry_initial: args
            .webhook_retry_initial
            .or(file.webhook_retry_initial)
            .unwrap_or(defaults.webhook_retry_initial),
        webhook_give_up_after: args
            .webhook_give_up_after
            .or(file.webhook_give_up_after)
            .unwrap_or(defaults.webhook_give_up_after),
        webhook_timeout: defaults.webhook_timeout,
        webhook_lease: args
            .webhook_lease
            .or(file.webhook_lease)
            .unwrap_or(defaults.webhook_lease),
        max_streams_per_tenant: args
            .max_event_streams_per_tenant
            .or(file.max_event_streams_per_tenant)
            .unwrap_or(defaults.max_streams_per_tenant),
        nats: args
            .nats_url
            .clone()
            .or_else(|| file.nats_url.clone())
            .map(|url| NatsSettings {
                url,
                stream: args
                    .nats_stream
                    .clone()
                    .or_else(|| file.nats_stream.clone())
                    .unwrap_or_else(|| "PROFILESTORE".to_owned()),
                subject_prefix: args
                    .nats_subject_prefix
                    .clone()
                    .or_else(|| file.nats_subject_prefix.clone())
                    .unwrap_or_else(|| "profilestore".to_owned()),
            }),
    };
    if settings.retention < Duration::from_secs(60) {
        bail!("--event-retention must be at least 1m");
    }
    if settings.webhook_lease < Duration::from_secs(1) {
        bail!("--webhook-lease must be at least 1s");
    }
    if settings.max_streams_per_tenant == 0 {
        bail!("--max-event-streams-per-tenant must be at least 1");
    }
    if settings.webhook_retry_initial.is_zero() {
        bail!("--webhook-retry-initial must be more than zero");
    }
    if let Some(nats) = &settings.nats {
        let token = |text: &str| {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !token(&nats.stream) {
            bail!("--nats-stream must be letters, digits, _ or -");
        }
        if !nats.subject_prefix.split('.').all(token) {
            bail!("--nats-subject-prefix must be dot-separated tokens of letters, digits, _ or -");
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_wins_over_file_and_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\ndata_dir = \"/tmp/x\"\ndefault_rate_limit = 7\n",
        )
        .unwrap();
        let store = StoreArgs {
            config: Some(path),
            ..Default::default()
        };
        let serve = ServeArgs {
            listen: Some("127.0.0.1:1234".into()),
            ..Default::default()
        };
        let settings = ServeSettings::resolve(&store, &serve).unwrap();
        assert_eq!(settings.listen.port(), 1234);
        assert_eq!(settings.default_rate_limit, 7);
        assert_eq!(
            settings.store.database_url,
            "sqlite:///tmp/x/profilestore.db"
        );
    }

    #[test]
    fn defaults_and_bad_values() {
        let settings =
            ServeSettings::resolve(&StoreArgs::default(), &ServeArgs::default()).unwrap();
        assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
        assert!(settings.tls.is_none());
        let bad = ServeArgs {
            listen: Some("nowhere".into()),
            ..Default::default()
        };
        assert!(ServeSettings::resolve(&StoreArgs::default(), &bad).is_err());
        let half_tls = ServeArgs {
            tls_cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(ServeSettings::resolve(&StoreArgs::default(), &half_tls).is_err());
    }

    #[test]
    fn pool_size_and_statement_timeout_come_from_flags_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "database_pool_size = 4\nstatement_timeout_ms = 2500\n",
        )
        .unwrap();
        let from_file = StoreSettings::resolve(&StoreArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            from_file.open_options(),
            OpenOptions {
                max_connections: Some(4),
                statement_timeout: Some(Duration::from_millis(2500)),
            }
        );
        let from_flags = StoreSettings::resolve(&StoreArgs {
            config: Some(path),
            database_pool_size: Some(20),
            statement_timeout_ms: Some(0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(from_flags.database_pool_size, Some(20));
        assert_eq!(from_flags.statement_timeout, None, "0 means no timeout");
        let defaults = StoreSettings::resolve(&StoreArgs::default()).unwrap();
        assert_eq!(defaults.open_options(), OpenOptions::default());
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        assert!(
            StoreSettings::resolve(&StoreArgs {
                config: Some(path),
                ..Default::default()
            })
            .is_err()
        );
    }
}
