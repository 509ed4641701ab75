#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <sstream>

namespace berth::config {
namespace {

// One configuration key: its dotted name and how to set it from text (file
// scalars and environment variables) or from a YAML list.
struct Key {
  std::string name;
  std::function<void(Config&, const std::string&)> set;
  std::function<void(Config&, const YAML::Node&)> set_list;  // list keys only
  bool yaml_only = false;  // set_list takes any YAML node (maps, lists of maps)
};

[[noreturn]] void Fail(const std::string& key, const std::string& why) {
  throw ConfigError("configuration key '" + key + "': " + why);
}

uint64_t ParseUint(const std::string& key, const std::string& v, uint64_t lo, uint64_t hi) {
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    Fail(key, "'" + v + "' is not a number");
  }
  if (out < lo || out > hi) {
    Fail(key, std::to_string(out) + " is out of range [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
  }
  return out;
}

bool ParseBool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  Fail(key, "'" + v + "' is not true or false");
}

// quota.namespaces: namespace -> bytes.
std::map<std::string, uint64_t> QuotaMap(const YAML::Node& n) {
  const std::string key = "quota.namespaces";
  std::map<std::string, uint64_t> out;
  if (n.IsNull()) return out;
  if (!n.IsMap()) Fail(key, "must map namespaces to bytes");
  for (const auto& kv : n) {
    if (!kv.second.IsScalar()) Fail(key, "must map namespaces to bytes");
    std::string ns = kv.first.as<std::string>();
    out[ns] = ParseUint(key + "." + ns, kv.second.as<std::string>(), 0, uint64_t{1} << 60);
  }
  return out;
}

// retention.policies: a list of {repositories, keep_last, keep_days, keep_tags}.
std::vector<Config::RetentionPolicy> RetentionPolicies(const YAML::Node& n) {
  const std::string key = "retention.policies";
  std::vector<Config::RetentionPolicy> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) Fail(key, "must be a list of policies");
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string at = key + "[" + std::to_string(i) + "]";
    if (!n[i].IsMap()) Fail(at, "must be a mapping");
    Config::RetentionPolicy p;
    for (const auto& kv : n[i]) {
      const std::string field = kv.first.as<std::string>();
      if (!kv.second.IsScalar()) Fail(at + "." + field, "must be a single value");
      const std::string v = kv.second.as<std::string>();
      if (field == "repositories") {
        p.repositories = v;
      } else if (field == "keep_last") {
        p.keep_last = ParseUint(at + "." + field, v, 0, uint64_t{1} << 32);
      } else if (field == "keep_days") {
        p.keep_days = ParseUint(at + "." + field, v, 0, 100000);
      } else if (field == "keep_tags") {
        p.keep_tags = v;
      } else {
        Fail(at + "." + field, "unknown key");
      }
    }
    if (p.repositories.empty()) Fail(at + ".repositories", "is required");
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> StringList(const std::string& key, const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) Fail(key, "must be a list of strings");
  for (const auto& e : n) {
    if (!e.IsScalar()) Fail(key, "must be a list of strings");
    out.push_back(e.as<std::string>());
  }
  return out;
}

// notifications.endpoints: a list of {name, url, headers, timeout, backoff,
// backoff_max, actions, media_types, repositories}.
std::vector<Config::NotificationEndpoint> NotificationEndpoints(const YAML::Node& n) {
  const std::string key = "notifications.endpoints";
  std::vector<Config::NotificationEndpoint> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) Fail(key, "must be a list of endpoints");
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string at = key + "[" + std::to_string(i) + "]";
    if (!n[i].IsMap()) Fail(at, "must be a mapping");
    Config::NotificationEndpoint ep;
    for (const auto& kv : n[i]) {
      const std::string field = kv.first.as<std::string>();
      const std::string fk = at + "." + field;
      if (field == "headers") {
        if (kv.second.IsNull()) continue;
        if (!kv.second.IsMap()) Fail(fk, "must map header names to values");
        for (const auto& h : kv.second) {
          if (!h.second.IsScalar()) Fail(fk, "must map header names to values");
          const std::string name = h.first.as<std::string>();
          const std::string value = h.second.as<std::string>();
          auto bad = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
          if (name.empty() || name.find_first_of(" :\t\r\n") != std::string::npos ||
              std::any_of(value.begin(), value.end(), bad)) {
            Fail(fk + "." + name, "is not a valid header");
          }
          ep.headers[name] = value;
        }
        continue;
      }
      if (field == "actions" || field == "media_types" || field == "repositories") {
        auto list = StringList(fk, kv.second);
        if (field == "actions") {
          for (const auto& a : list) {
            if (a != "push" && a != "pull" && a != "delete" && a != "mount") {
              Fail(fk, "'" + a + "' is not one of push, pull, delete, mount");
            }
          }
          ep.actions = std::move(list);
        } else if (field == "media_types") {
          ep.media_types = std::move(list);
        } else {
          ep.repositories = std::move(list);
        }
        continue;
      }
      if (!kv.second.IsScalar()) Fail(fk, "must be a single value");
      const std::string v = kv.second.as<std::string>();
      if (field == "name") {
        ep.name = v;
      } else if (field == "url") {
        ep.url = v;
      } else if (field == "timeout") {
        ep.timeout = ParseUint(fk, v, 1, 300);
      } else if (field == "backoff") {
        ep.backoff = ParseUint(fk, v, 1, 3600);
      } else if (field == "backoff_max") {
        ep.backoff_max = ParseUint(fk, v, 1, 86400);
      } else {
        Fail(fk, "unknown key");
      }
    }
    if (ep.name.empty()) Fail(at + ".name", "is required");
    if (ep.name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
        std::string::npos) {
      Fail(at + ".name", "'" + ep.name + "' may hold only letters, digits, '.', '_' and '-'");
    }
    for (const auto& other : out) {
      if (other.name == ep.name) Fail(at + ".name", "'" + ep.name + "' is used twice");
    }
    if (ep.url.rfind("http://", 0) != 0 && ep.url.rfind("https://", 0) != 0) {
      Fail(at + ".url",
           ep.url.empty() ? "is required" : "'" + ep.url + "' is not an http:// or https:// URL");
    }
    if (ep.backoff_max < ep.backoff) Fail(at + ".backoff_max", "is less than backoff");
    out.push_back(std::move(ep));
  }
  return out;
}

class KeyTable {
 public:
  template <typename S>
  void Str(const std::string& name, S Config::*section, std::string S::*field,
           const std::vector<std::string>& one_of = {}, bool non_empty = false) {
    keys_.push_back({name,
                     [=](Config& c, const std::string& v) {
                       if (non_empty && v.empty()) Fail(name, "must not be empty");
                       if (!one_of.empty() &&
                           std::find(one_of.begin(), one_of.end(), v) == one_of.end()) {
                         std::string all;
                         for (const auto& o : one_of) all += (all.empty() ? "" : ", ") + o;
                         Fail(name, "'" + v + "' is not one of " + all);
                       }
                       c.*section.*field = v;
                     },
                     nullptr});
  }
  template <typename S>
  void Uint(std::string name, S Config::*section, uint64_t S::*field, uint64_t lo, uint64_t hi) {
    keys_.push_back(
        {name,
         [=](Config& c, const std::string& v) { c.*section.*field = ParseUint(name, v, lo, hi); },
         nullptr});
  }
  template <typename S>
  void Bool(std::string name, S Config::*section, bool S::*field) {
    keys_.push_back(
        {name, [=](Config& c, const std::string& v) { c.*section.*field = ParseBool(name, v); },
         nullptr});
  }
  // A list: a YAML sequence in the file, comma-separated in the environment.
  template <typename S>
  void List(std::string name, S Config::*section, std::vector<std::string> S::*field) {
    keys_.push_back({name,
                     [=](Config& c, const std::string& v) {
                       auto& out = c.*section.*field;
                       out.clear();
                       std::stringstream ss(v);
                       std::string item;
                       while (std::getline(ss, item, ',')) {
                         if (!item.empty()) out.push_back(item);
                       }
                     },
                     [=](Config& c, const YAML::Node& n) {
                       auto& out = c.*section.*field;
                       out.clear();
                       for (const auto& e : n) {
                         if (!e.IsScalar()) Fail(name, "must be a list of strings");
                         out.push_back(e.as<std::string>());
                       }
                     }});
  }
  // A structured key (a map, a list of maps): YAML only.
  void Node(const std::string& name, const std::function<void(Config&, const YAML::Node&)>& set) {
    keys_.push_back({name,
                     [=](Config& c, const std::string& v) {
                       if (!v.empty()) Fail(name, "can only be set in the YAML file");
                       set(c, YAML::Node());
                     },
                     set, true});
  }
  const std::vector<Key>& keys() const { return keys_; }

 private:
  std::vector<Key> keys_;
};

const std::vector<Key>& Keys() {
  static const KeyTable table = [] {
    using C = Config;
    KeyTable t;
    t.Str("log.level", &C::log, &C::Log::level, {"trace", "debug", "info", "warn", "error"});
    t.Str("log.format", &C::log, &C::Log::format, {"text", "json"});
    t.Str("storage.root", &C::storage, &C::Storage::root, {}, true);
    t.Str("storage.pid_file", &C::storage, &C::Storage::pid_file);
    t.Str("storage.driver", &C::storage, &C::Storage::driver, {"filesystem", "s3"});
    t.Str("s3.endpoint", &C::s3, &C::S3::endpoint);
    t.Str("s3.region", &C::s3, &C::S3::region, {}, true);
    t.Str("s3.bucket", &C::s3, &C::S3::bucket);
    t.Str("s3.prefix", &C::s3, &C::S3::prefix);
    t.Str("s3.access_key", &C::s3, &C::S3::access_key);
    t.Str("s3.secret_key", &C::s3, &C::S3::secret_key);
    t.Str("s3.ca_file", &C::s3, &C::S3::ca_file);
    t.Bool("s3.redirect", &C::s3, &C::S3::redirect);
    t.Bool("s3.create_bucket", &C::s3, &C::S3::create_bucket);
    t.Uint("s3.part_size", &C::s3, &C::S3::part_size, 5 * 1024 * 1024, uint64_t{1} << 32);
    t.Uint("s3.connect_timeout_ms", &C::s3, &C::S3::connect_timeout_ms, 100, 120000);
    t.Uint("s3.request_timeout_ms", &C::s3, &C::S3::request_timeout_ms, 100, 600000);
    t.Uint("s3.stall_timeout", &C::s3, &C::S3::stall_timeout, 1, 3600);
    t.Uint("s3.max_fetches", &C::s3, &C::S3::max_fetches, 1, 4096);
    t.Uint("s3.upload_memory", &C::s3, &C::S3::upload_memory, 0, uint64_t{1} << 40);
    t.Str("metadata.driver", &C::metadata, &C::Metadata::driver, {"sqlite", "postgres"});
    t.Str("postgres.dsn", &C::postgres, &C::Postgres::dsn);
    t.Uint("postgres.pool_size", &C::postgres, &C::Postgres::pool_size, 1, 1024);
    t.Uint("postgres.connect_timeout", &C::postgres, &C::Postgres::connect_timeout, 1, 300);
    t.Uint("postgres.statement_timeout_ms", &C::postgres, &C::Postgres::statement_timeout_ms, 100,
           3600000);
    t.Str("registry.addr", &C::registry, &C::Registry::addr, {}, true);
    t.Uint("registry.port", &C::registry, &C::Registry::port, 0, 65535);
    t.Uint("registry.max_manifest_bytes", &C::registry, &C::Registry::max_manifest_bytes,
           4 * 1024 * 1024, 1ull << 30);
    t.Bool("tls.enabled", &C::tls, &C::Tls::enabled);
    t.Str("tls.cert", &C::tls, &C::Tls::cert);
    t.Str("tls.key", &C::tls, &C::Tls::key);
    t.List("tls.hosts", &C::tls, &C::Tls::hosts);
    t.Bool("auth.enabled", &C::auth, &C::Auth::enabled);
    t.Str("auth.realm", &C::auth, &C::Auth::realm);
    t.Str("auth.service", &C::auth, &C::Auth::service, {}, true);
    t.Str("auth.issuer", &C::auth, &C::Auth::issuer, {}, true);
    t.Str("auth.rootcertbundle", &C::auth, &C::Auth::rootcertbundle);
    t.Str("token.addr", &C::token, &C::Token::addr, {}, true);
    t.Uint("token.port", &C::token, &C::Token::port, 0, 65535);
    t.Str("token.algorithm", &C::token, &C::Token::algorithm, {"ES256", "RS256"});
    t.Str("token.key", &C::token, &C::Token::key);
    t.Str("token.cert", &C::token, &C::Token::cert);
    t.Uint("token.ttl", &C::token, &C::Token::ttl, 60, 86400);
    t.Str("token.backend", &C::token, &C::Token::backend, {"htpasswd", "keystone"});
    t.Str("token.htpasswd", &C::token, &C::Token::htpasswd);
    t.List("token.admins", &C::token, &C::Token::admins);
    t.List("token.public_namespaces", &C::token, &C::Token::public_namespaces);
    t.List("token.reserved_namespaces", &C::token, &C::Token::reserved_namespaces);
    t.Bool("token.anonymous_pull", &C::token, &C::Token::anonymous_pull);
    t.Uint("token.max_failures", &C::token, &C::Token::max_failures, 1, 1000);
    t.Uint("token.login_cache_ttl", &C::token, &C::Token::login_cache_ttl, 0, 3600);
    t.Uint("token.refresh_ttl", &C::token, &C::Token::refresh_ttl, 60, 366 * 86400);
    t.Uint("token.refresh_idle_ttl", &C::token, &C::Token::refresh_idle_ttl, 60, 366 * 86400);
    t.Str("keystone.url", &C::keystone, &C::Keystone::url);
    t.Str("keystone.user_domain", &C::keystone, &C::Keystone::user_domain, {}, true);
    t.Str("keystone.project", &C::keystone, &C::Keystone::project);
    t.Str("keystone.project_domain", &C::keystone, &C::Keystone::project_domain, {}, true);
    t.Str("keystone.admin_role", &C::keystone, &C::Keystone::admin_role);
    t.Str("keystone.ca_file", &C::keystone, &C::Keystone::ca_file);
    t.Bool("keystone.verify_tls", &C::keystone, &C::Keystone::verify_tls);
    t.Uint("keystone.timeout_ms", &C::keystone, &C::Keystone::timeout_ms, 100, 120000);
    t.Uint("keystone.cache_ttl", &C::keystone, &C::Keystone::cache_ttl, 0, 3600);
    t.Uint("keystone.threads", &C::keystone, &C::Keystone::threads, 1, 256);
    t.Uint("keystone.queue", &C::keystone, &C::Keystone::queue, 0, 4096);
    t.Uint("http.io_threads", &C::http, &C::Http::io_threads, 1, 64);
    t.Uint("http.blocking_threads", &C::http, &C::Http::blocking_threads, 1, 256);
    t.Uint("http.header_timeout", &C::http, &C::Http::header_timeout, 1, 3600);
    t.Uint("http.body_timeout", &C::http, &C::Http::body_timeout, 1, 3600);
    t.Uint("http.write_timeout", &C::http, &C::Http::write_timeout, 1, 3600);
    // At most 64 KiB: Beast keeps each field in at most 64 KiB and throws on a
    // longer one, which would close the connection with no answer, not 431.
    t.Uint("http.max_header_bytes", &C::http, &C::Http::max_header_bytes, 1024, 1 << 16);
    t.Uint("http.max_connections", &C::http, &C::Http::max_connections, 1, 1 << 20);
    t.Uint("http.max_connections_per_address", &C::http, &C::Http::max_connections_per_address, 1,
           1 << 20);
    t.List("http.trusted_proxies", &C::http, &C::Http::trusted_proxies);
    t.Uint("gc.interval", &C::gc, &C::Gc::interval, 0, 366 * 86400);
    t.Uint("gc.delay", &C::gc, &C::Gc::delay, 0, 366 * 86400);
    t.Uint("gc.untagged_delay", &C::gc, &C::Gc::untagged_delay, 0, 366 * 86400);
    t.Uint("gc.batch", &C::gc, &C::Gc::batch, 1, 100000);
    t.Uint("uploads.max_age", &C::uploads, &C::Uploads::max_age, 60, 366 * 86400);
    t.Bool("metrics.enabled", &C::metrics, &C::Metrics::enabled);
    t.Str("metrics.addr", &C::metrics, &C::Metrics::addr, {}, true);
    t.Uint("metrics.port", &C::metrics, &C::Metrics::port, 0, 65535);
    t.Bool("ui.enabled", &C::ui, &C::Ui::enabled);
    t.Str("ui.ca_file", &C::ui, &C::Ui::ca_file);
    t.Uint("quota.default", &C::quota, &C::Quota::default_bytes, 0, uint64_t{1} << 60);
    t.Node("quota.namespaces",
           [](Config& c, const YAML::Node& n) { c.quota.namespaces = QuotaMap(n); });
    t.Bool("retention.dry_run", &C::retention, &C::Retention::dry_run);
    t.Node("retention.policies",
           [](Config& c, const YAML::Node& n) { c.retention.policies = RetentionPolicies(n); });
    t.Uint("http.min_body_rate", &C::http, &C::Http::min_body_rate, 0, uint64_t{1} << 40);
    t.Uint("http.shutdown_grace", &C::http, &C::Http::shutdown_grace, 0, 3600);
    t.Node("notifications.endpoints", [](Config& c, const YAML::Node& n) {
      c.notifications.endpoints = NotificationEndpoints(n);
    });
    t.Uint("notifications.queue_max", &C::notifications, &C::Notifications::queue_max, 1, 10000000);
    t.Bool("notifications.blobs", &C::notifications, &C::Notifications::blobs);
    t.Bool("notifications.pulls", &C::notifications, &C::Notifications::pulls);
    return t;
  }();
  return table.keys();
}

std::string EnvName(const std::string& key) {
  std::string e = "BERTH_";
  for (char c : key) {
    e += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return e;
}

void Walk(const YAML::Node& node, const std::string& prefix, Config& c) {
  if (!node.IsMap()) Fail(prefix.empty() ? "(top level)" : prefix, "must be a mapping");
  const auto& keys = Keys();
  for (const auto& kv : node) {
    std::string name = (prefix.empty() ? "" : prefix + ".") + kv.first.as<std::string>();
    auto it = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.name == name; });
    if (it != keys.end()) {
      if (it->yaml_only && !kv.second.IsNull()) {
        it->set_list(c, kv.second);
      } else if (it->set_list) {
        if (kv.second.IsSequence()) {
          it->set_list(c, kv.second);
        } else if (kv.second.IsNull()) {
          it->set(c, "");
        } else {
          Fail(name, "must be a list");
        }
      } else if (kv.second.IsScalar()) {
        it->set(c, kv.second.as<std::string>());
      } else if (kv.second.IsNull()) {
        it->set(c, "");
      } else {
        Fail(name, "must be a single value");
      }
      continue;
    }
    bool is_section = std::any_of(keys.begin(), keys.end(), [&](const Key& k) {
      return k.name.compare(0, name.size() + 1, name + ".") == 0;
    });
    if (!is_section) Fail(name, "unknown key");
    Walk(kv.second, name, c);
  }
}

// Rules between keys, checked once everything is set.
void Validate(const Config& c) {
  if (c.storage.driver == "s3") {
    if (c.s3.endpoint.rfind("http://", 0) != 0 && c.s3.endpoint.rfind("https://", 0) != 0) {
      Fail("s3.endpoint", c.s3.endpoint.empty()
                              ? "is required when storage.driver is s3"
                              : "'" + c.s3.endpoint + "' is not an http:// or https:// URL");
    }
    if (c.s3.bucket.empty()) Fail("s3.bucket", "is required when storage.driver is s3");
    if (c.s3.access_key.empty()) Fail("s3.access_key", "is required when storage.driver is s3");
    if (c.s3.secret_key.empty()) {
      Fail("s3.secret_key", "is required when storage.driver is s3 (set BERTH_S3_SECRET_KEY)");
    }
  }
  if (c.metadata.driver == "postgres" && c.postgres.dsn.empty()) {
    Fail("postgres.dsn", "is required when metadata.driver is postgres (set BERTH_POSTGRES_DSN)");
  }
}

}  // namespace

Config Load(const std::string& path, const std::vector<std::string>& env) {
  Config c;
  if (!path.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
      throw ConfigError("cannot read configuration " + path + ": " + e.what());
    }
    if (!root.IsNull()) Walk(root, "", c);
  }
  const auto& keys = Keys();
  for (const auto& entry : env) {
    if (entry.rfind("BERTH_", 0) != 0) continue;
    auto eq = entry.find('=');
    std::string name = entry.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : entry.substr(eq + 1);
    auto it = std::find_if(keys.begin(), keys.end(),
                           [&](const Key& k) { return EnvName(k.name) == name; });
    if (it == keys.end()) {
      throw ConfigError("environment variable " + name + " names no configuration key");
    }
    it->set(c, value);
  }
  Validate(c);
  return c;
}

std::string DefaultYaml() {
  Config d;
  std::ostringstream o;
  auto list = [](const std::vector<std::string>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
  };
  o << "# berth configuration; see the README for every key.\n"
    << "# Each key can also be set as BERTH_<SECTION>_<KEY> (e.g. BERTH_REGISTRY_PORT).\n"
    << "log:\n  level: " << d.log.level << "\n"
    << "storage:\n  root: " << d.storage.root << "\n"
    << "registry:\n  addr: " << d.registry.addr << "\n  port: " << d.registry.port << "\n"
    << "tls:\n  enabled: true     # false serves plain HTTP\n"
    << "  cert: \"\"          # empty: <root>/keys/tls.crt, generated on first start\n"
    << "  key: \"\"\n  hosts: []\n"
    << "auth:\n  enabled: true     # the registry demands tokens from the token server\n"
    << "  service: " << d.auth.service << "\n  issuer: " << d.auth.issuer << "\n"
    << "token:\n  addr: " << d.token.addr << "\n  port: " << d.token.port
    << "\n  algorithm: " << d.token.algorithm << "\n  ttl: " << d.token.ttl
    << "\n  backend: " << d.token.backend << "    # or keystone\n"
    << "  htpasswd: \"\"      # empty: <root>/htpasswd\n"
    << "  admins: " << list(d.token.admins)
    << "\n  public_namespaces: " << list(d.token.public_namespaces)
    << "\n  reserved_namespaces: []\n  anonymous_pull: false\n"
    << "  refresh_ttl: " << d.token.refresh_ttl
    << "       # seconds a refresh token lives at most\n"
    << "  refresh_idle_ttl: " << d.token.refresh_idle_ttl
    << "   # seconds unused before it is refused\n"
    << "gc:\n  interval: " << d.gc.interval
    << "        # seconds between collections; 0: only on demand\n"
    << "  delay: " << d.gc.delay << "           # seconds an unreferenced blob link is kept\n"
    << "  untagged_delay: " << d.gc.untagged_delay << "  # seconds an untagged manifest is kept\n"
    << "uploads:\n  max_age: " << d.uploads.max_age << "        # seconds an upload may stay idle\n"
    << "metrics:            # Prometheus text format at http://ADDR:PORT/metrics (no "
       "authentication)\n"
    << "  enabled: true\n  addr: " << d.metrics.addr << "\n  port: " << d.metrics.port << "\n"
    << "ui:                 # the web interface at https://HOST:PORT/ui/ (needs auth)\n"
    << "  enabled: true\n  ca_file: \"\"         # CA of the token server; \"\": tls.cert\n"
    << "quota:\n  default: 0          # bytes per namespace; 0: none\n  namespaces: {}      # e.g. "
       "alice: 10737418240\n"
    << "retention:\n  dry_run: false\n  policies: []        # see the README: repositories, "
       "keep_last, keep_days, keep_tags\n"
    << "keystone:\n  url: \"\"\n  user_domain: Default\n  project: \"\"\n  admin_role: admin\n"
    << "  verify_tls: true\n  cache_ttl: " << d.keystone.cache_ttl << "\n"
    << "notifications:        # webhook events; see the README\n  endpoints: []       # name, url, "
       "headers, timeout, backoff, backoff_max, actions, media_types, repositories\n"
    << "  queue_max: " << d.notifications.queue_max << "    # pending events kept per endpoint\n"
    << "  blobs: false\n  pulls: false\n";
  return o.str();
}

}  // namespace berth::config
