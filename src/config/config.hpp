// Typed configuration for every berth command, with defaults for everything.
// Read from one YAML file and then from BERTH_* environment variables (a key
// a.b_c is BERTH_A_B_C), the environment winning. Unknown keys, unknown
// BERTH_* variables and bad values stop start-up with a message naming the
// key: ConfigError, which main turns into exit code 2.
//
// Thread-safety: a Config is a plain value, built once at start-up.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::config {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Config {
  struct Log {
    std::string level = "info";   // trace|debug|info|warn|error
    std::string format = "text";  // text | json (one JSON object per line)
  } log;
  struct Storage {
    std::string root = "./data";  // storage root (blobs, uploads, metadata.db, keys)
    std::string pid_file;         // written after the lock is taken; empty: none
    // Where blobs and uploads live: filesystem (under root) or s3 (s3.*; root
    // then holds only keys, the user file and the local upload spool).
    std::string driver = "filesystem";
  } storage;
  // Blobs and upload sessions in an S3 bucket (storage.driver: s3).
  struct S3 {
    std::string endpoint;  // http(s)://host:port of the S3 service (Ceph RGW, AWS, MinIO)
    std::string region = "us-east-1";
    std::string bucket;
    std::string prefix;  // key prefix inside the bucket, e.g. "berth/"
    std::string access_key;
    std::string secret_key;  // better set as BERTH_S3_SECRET_KEY
    std::string ca_file;     // CA of an https endpoint; empty: the system's
    bool redirect = false;   // answer blob GETs with a presigned URL instead of streaming
    bool create_bucket = false;
    uint64_t part_size = 8 * 1024 * 1024;  // multipart part size in bytes (S3 minimum 5 MiB)
    uint64_t connect_timeout_ms = 3000;
    uint64_t request_timeout_ms = 30000;
    uint64_t stall_timeout = 30;  // seconds a stream may make no progress
    uint64_t max_fetches = 64;    // blob reads from S3 in flight at once
    // Memory for upload parts over all uploads; parts past it go through the
    // local spool. 0: always the spool.
    uint64_t upload_memory = uint64_t{128} << 20;
  } s3;
  // Where repositories, manifests, tags, refresh tokens and events live.
  struct Metadata {
    std::string driver = "sqlite";  // sqlite (under storage.root) or postgres (postgres.*)
  } metadata;
  struct Postgres {
    std::string dsn;  // libpq connection string; better set as BERTH_POSTGRES_DSN
    uint64_t pool_size = 8;
    uint64_t connect_timeout = 5;  // seconds
    uint64_t statement_timeout_ms = 30000;
  } postgres;
  struct Registry {
    std::string addr = "0.0.0.0";
    uint64_t port = 9001;
    uint64_t max_manifest_bytes = 4 * 1024 * 1024;
  } registry;
  struct Tls {
    bool enabled = true;
    std::string cert;                // empty: <root>/keys/tls.crt, generated if missing
    std::string key;                 // empty: <root>/keys/tls.key, generated if missing
    std::vector<std::string> hosts;  // extra names for the generated certificate
  } tls;
  struct Auth {
    bool enabled = true;                 // the registry demands bearer tokens
    std::string realm;                   // empty: https://<host name>:<token.port>/token
    std::string service = "berth";       // `aud` of tokens, `service` of challenges
    std::string issuer = "berth-token";  // `iss` of tokens
    std::string rootcertbundle;          // empty: the token certificate in <root>/keys
  } auth;
  struct Token {
    std::string addr = "0.0.0.0";
    uint64_t port = 9002;
    std::string algorithm = "ES256";   // ES256 or RS256
    std::string key;                   // empty: <root>/keys/token.key, generated if missing
    std::string cert;                  // empty: <root>/keys/token.crt, generated if missing
    uint64_t ttl = 900;                // seconds a token is valid
    std::string backend = "htpasswd";  // htpasswd or keystone
    std::string htpasswd;              // empty: <root>/htpasswd
    std::vector<std::string> admins{"admin"};
    std::vector<std::string> public_namespaces{"public"};
    std::vector<std::string> reserved_namespaces;
    bool anonymous_pull = false;
    uint64_t max_failures = 5;      // failed logins per user and address before 429s start
    uint64_t login_cache_ttl = 60;  // seconds a successful user-file login is remembered (0: off)
    uint64_t refresh_ttl = 30 * 86400;      // longest life of a refresh token, in seconds
    uint64_t refresh_idle_ttl = 7 * 86400;  // a refresh token unused this long is refused
  } token;
  struct Keystone {
    std::string url;  // e.g. https://keystone:5000/v3
    std::string user_domain = "Default";
    std::string project;  // when set, logins are scoped to it and roles are read
    std::string project_domain = "Default";
    std::string admin_role = "admin";
    std::string ca_file;
    bool verify_tls = true;
    uint64_t timeout_ms = 5000;
    uint64_t cache_ttl = 60;  // seconds a successful login is remembered
    // Keystone calls run on a pool of their own (docs/threads.md): this many
    // at once, and this many more waiting; past that a login is answered 503
    // at once. Keep the sum below http.blocking_threads, whose threads wait.
    uint64_t threads = 4;
    uint64_t queue = 4;
  } keystone;
  // Storage lifecycle (docs/lifecycle.md).
  struct Gc {
    uint64_t interval = 3600;         // seconds between background runs; 0: on demand only
    uint64_t delay = 3600;            // seconds an unreferenced blob link is kept
    uint64_t untagged_delay = 86400;  // seconds an untagged manifest is kept
    uint64_t batch = 256;             // rows deleted per transaction
  } gc;
  struct Uploads {
    uint64_t max_age = 86400;  // seconds an upload session may stay idle
  } uploads;
  struct Quota {
    uint64_t default_bytes = 0;                  // quota.default: bytes per namespace; 0 = none
    std::map<std::string, uint64_t> namespaces;  // overrides (YAML only)
  } quota;
  struct RetentionPolicy {
    std::string repositories;           // glob
    std::optional<uint64_t> keep_last;  // most recently pushed tags kept
    std::optional<uint64_t> keep_days;  // tags pushed or pulled within these days kept
    std::string keep_tags;              // regex of tags kept
  };
  struct Retention {
    bool dry_run = false;
    std::vector<RetentionPolicy> policies;  // YAML only; the first match applies
  } retention;
  // The Prometheus metrics listener (plain HTTP, no authentication).
  struct Metrics {
    bool enabled = true;
    std::string addr = "127.0.0.1";
    uint64_t port = 9003;
  } metrics;
  // The web interface at /ui/ on the registry port (needs auth.enabled).
  struct Ui {
    bool enabled = true;
    // CA bundle to check the token server (realm) the UI logs in through;
    // "": tls.cert when TLS is on (berth's own token server), else the system store.
    std::string ca_file;
  } ui;
  struct Http {
    uint64_t io_threads = 2;
    uint64_t blocking_threads = 16;
    uint64_t header_timeout = 30;  // seconds
    uint64_t body_timeout = 60;    // seconds
    uint64_t write_timeout = 60;   // seconds
    uint64_t max_header_bytes = 16384;
    uint64_t max_connections = 1024;
    uint64_t max_connections_per_address = 64;
    // Load balancers whose X-Forwarded-For is believed (addresses or CIDR
    // blocks); they are exempt from max_connections_per_address.
    std::vector<std::string> trusted_proxies;
    uint64_t min_body_rate = 1024;  // bytes/s averaged over body_timeout; 0 = off
    uint64_t shutdown_grace = 10;   // seconds
  } http;
  // Webhook events (README "Events (webhooks)"); off while no endpoint is set.
  struct NotificationEndpoint {
    std::string name;  // required, unique: [A-Za-z0-9._-]; keys the endpoint's durable queue
    std::string url;   // required: http:// or https://
    std::map<std::string, std::string> headers;  // sent with every delivery
    uint64_t timeout = 5;                        // seconds one delivery attempt may take
    uint64_t backoff = 1;              // seconds before the first retry; doubles after each failure
    uint64_t backoff_max = 300;        // seconds: the cap of the doubling
    std::vector<std::string> actions;  // push|pull|delete|mount; empty: all
    std::vector<std::string> media_types;   // empty: all
    std::vector<std::string> repositories;  // globs; empty: all
  };
  struct Notifications {
    std::vector<NotificationEndpoint> endpoints;  // YAML only
    uint64_t queue_max = 10000;  // pending events kept per endpoint; the oldest are dropped
    bool blobs = false;          // also blob pushes and mounts (and blob pulls with pulls)
    bool pulls = false;          // also manifest pulls
  } notifications;
};

// Loads `path` (may be empty: defaults only) and applies `env` (a list of
// "NAME=value" strings, normally environ). Throws ConfigError.
Config Load(const std::string& path, const std::vector<std::string>& env);

// The documented YAML for the defaults, as written by `berth init`.
std::string DefaultYaml();

}  // namespace berth::config
