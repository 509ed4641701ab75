#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <sstream>

namespace berth::config {
namespace {

// One configuration key: its dotted name and how to set it from text.
struct Key {
  std::string name;
  std::function<void(Config&, const std::string&)> set;
  std::function<void(Config&, const YAML::Node&)> set_yaml;  // lists only
};

void Fail(const std::string& key, const std::string& why) {
  throw ConfigError("configuration key '" + key + "': " + why);
}

uint64_t ParseUint(const std::string& key, const std::string& v, uint64_t lo, uint64_t hi) {
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) Fail(key, "'" + v + "' is not a number");
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
  return false;
}

std::vector<Key> Keys() {
  std::vector<Key> k;
  k.push_back({"log.level", [](Config& c, const std::string& v) {
                 static const char* kLevels[] = {"trace", "debug", "info", "warn", "error"};
                 if (std::find(std::begin(kLevels), std::end(kLevels), v) == std::end(kLevels)) {
                   Fail("log.level", "'" + v + "' is not one of trace, debug, info, warn, error");
                 }
                 c.log.level = v;
               }, nullptr});
  k.push_back({"storage.root", [](Config& c, const std::string& v) {
                 if (v.empty()) Fail("storage.root", "must not be empty");
                 c.storage.root = v;
               }, nullptr});
  k.push_back({"registry.addr", [](Config& c, const std::string& v) { c.registry.addr = v; }, nullptr});
  k.push_back({"registry.port", [](Config& c, const std::string& v) {
                 c.registry.port = ParseUint("registry.port", v, 0, 65535);
               }, nullptr});
  k.push_back({"registry.max_manifest_bytes", [](Config& c, const std::string& v) {
                 c.registry.max_manifest_bytes =
                     ParseUint("registry.max_manifest_bytes", v, 4 * 1024 * 1024, 1ull << 30);
               }, nullptr});
  k.push_back({"tls.enabled", [](Config& c, const std::string& v) { c.tls.enabled = ParseBool("tls.enabled", v); }, nullptr});
  k.push_back({"tls.cert", [](Config& c, const std::string& v) { c.tls.cert = v; }, nullptr});
  k.push_back({"tls.key", [](Config& c, const std::string& v) { c.tls.key = v; }, nullptr});
  k.push_back({"tls.hosts",
               [](Config& c, const std::string& v) {
                 c.tls.hosts.clear();
                 std::stringstream ss(v);
                 std::string item;
                 while (std::getline(ss, item, ',')) {
                   if (!item.empty()) c.tls.hosts.push_back(item);
                 }
               },
               [](Config& c, const YAML::Node& n) {
                 if (!n.IsSequence()) Fail("tls.hosts", "must be a list of names");
                 c.tls.hosts.clear();
                 for (const auto& e : n) c.tls.hosts.push_back(e.as<std::string>());
               }});
  auto http_uint = [&](const char* leaf, uint64_t Config::Http::*m, uint64_t lo, uint64_t hi) {
    std::string name = std::string("http.") + leaf;
    k.push_back({name, [=](Config& c, const std::string& v) { c.http.*m = ParseUint(name, v, lo, hi); }, nullptr});
  };
  http_uint("io_threads", &Config::Http::io_threads, 1, 64);
  http_uint("blocking_threads", &Config::Http::blocking_threads, 1, 256);
  http_uint("header_timeout", &Config::Http::header_timeout, 1, 3600);
  http_uint("body_timeout", &Config::Http::body_timeout, 1, 3600);
  http_uint("write_timeout", &Config::Http::write_timeout, 1, 3600);
  http_uint("max_header_bytes", &Config::Http::max_header_bytes, 1024, 1 << 20);
  http_uint("max_connections", &Config::Http::max_connections, 1, 1 << 20);
  http_uint("shutdown_grace", &Config::Http::shutdown_grace, 0, 3600);
  return k;
}

std::string EnvName(const std::string& key) {
  std::string e = "BERTH_";
  for (char c : key) e += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return e;
}

void Walk(const YAML::Node& node, const std::string& prefix, const std::vector<Key>& keys,
          Config& c) {
  if (!node.IsMap()) Fail(prefix.empty() ? "(top level)" : prefix, "must be a mapping");
  for (const auto& kv : node) {
    std::string name = (prefix.empty() ? "" : prefix + ".") + kv.first.as<std::string>();
    auto it = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return k.name == name; });
    if (it != keys.end()) {
      if (kv.second.IsSequence() && it->set_yaml) {
        it->set_yaml(c, kv.second);
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
    Walk(kv.second, name, keys, c);
  }
}

}  // namespace

Config Load(const std::string& path, const std::vector<std::string>& env) {
  Config c;
  const auto keys = Keys();
  if (!path.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
      throw ConfigError("cannot read configuration " + path + ": " + e.what());
    }
    if (!root.IsNull()) Walk(root, "", keys, c);
  }
  for (const auto& entry : env) {
    if (entry.rfind("BERTH_", 0) != 0) continue;
    auto eq = entry.find('=');
    std::string name = entry.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : entry.substr(eq + 1);
    auto it = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return EnvName(k.name) == name; });
    if (it == keys.end()) {
      throw ConfigError("environment variable " + name + " names no configuration key");
    }
    it->set(c, value);
  }
  return c;
}

std::string DefaultYaml() {
  Config d;
  std::ostringstream o;
  o << "# berth configuration. Every key can also be set as BERTH_<SECTION>_<KEY>.\n"
    << "log:\n  level: " << d.log.level << "            # trace|debug|info|warn|error\n"
    << "storage:\n  root: " << d.storage.root << "          # blobs, uploads, metadata.db, keys\n"
    << "registry:\n  addr: " << d.registry.addr << "\n  port: " << d.registry.port
    << "\n  max_manifest_bytes: " << d.registry.max_manifest_bytes << "\n"
    << "tls:\n  enabled: true          # false serves plain HTTP\n"
    << "  cert: \"\"               # empty: <root>/keys/tls.crt, generated on first start\n"
    << "  key: \"\"\n  hosts: []              # extra names for the generated certificate\n"
    << "http:\n  io_threads: " << d.http.io_threads << "\n  blocking_threads: " << d.http.blocking_threads
    << "\n  header_timeout: " << d.http.header_timeout << "      # seconds\n  body_timeout: "
    << d.http.body_timeout << "\n  write_timeout: " << d.http.write_timeout
    << "\n  max_header_bytes: " << d.http.max_header_bytes << "\n  max_connections: "
    << d.http.max_connections << "\n  shutdown_grace: " << d.http.shutdown_grace << "\n";
  return o.str();
}

}  // namespace berth::config
