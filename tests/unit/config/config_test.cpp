// Tests for config::Load (config/config.hpp): defaults, the YAML file, BERTH_*
// environment overrides, and errors that name the offending key.

#include "config/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace berth::config {
namespace {

namespace fs = std::filesystem;
using Env = std::vector<std::string>;
using Strings = std::vector<std::string>;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes `yaml` to a file and returns its path.
  std::string Yaml(const std::string& yaml) {
    std::string path = dir_ + "/berth" + std::to_string(files_++) + ".yaml";
    std::ofstream(path) << yaml;
    return path;
  }

  // The ConfigError message from loading, or "<no error>".
  std::string ErrorOf(const std::string& path, const Env& env) {
    try {
      Load(path, env);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  }

  std::string dir_;
  int files_ = 0;
};

void ExpectDefaults(const Config& c) {
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.storage.root, "./data");
  EXPECT_EQ(c.registry.addr, "0.0.0.0");
  EXPECT_EQ(c.registry.port, 9001u);
  EXPECT_EQ(c.registry.max_manifest_bytes, 4u * 1024 * 1024);
  EXPECT_TRUE(c.tls.enabled);
  EXPECT_EQ(c.tls.cert, "");
  EXPECT_EQ(c.tls.key, "");
  EXPECT_TRUE(c.tls.hosts.empty());
  EXPECT_EQ(c.http.io_threads, 2u);
  EXPECT_EQ(c.http.blocking_threads, 16u);
  EXPECT_EQ(c.http.header_timeout, 30u);
  EXPECT_EQ(c.http.body_timeout, 60u);
  EXPECT_EQ(c.http.write_timeout, 60u);
  EXPECT_EQ(c.http.max_header_bytes, 16384u);
  EXPECT_EQ(c.http.max_connections, 1024u);
  EXPECT_EQ(c.http.shutdown_grace, 10u);
  EXPECT_EQ(c.gc.interval, 3600u);
  EXPECT_EQ(c.gc.delay, 3600u);
  EXPECT_EQ(c.gc.untagged_delay, 86400u);
  EXPECT_EQ(c.uploads.max_age, 86400u);
  EXPECT_EQ(c.quota.default_bytes, 0u);
  EXPECT_TRUE(c.quota.namespaces.empty());
  EXPECT_FALSE(c.retention.dry_run);
  EXPECT_TRUE(c.retention.policies.empty());
  EXPECT_TRUE(c.notifications.endpoints.empty());
  EXPECT_EQ(c.notifications.queue_max, 10000u);
  EXPECT_FALSE(c.notifications.blobs);
  EXPECT_FALSE(c.notifications.pulls);
  EXPECT_TRUE(c.ui.enabled);
  EXPECT_EQ(c.ui.ca_file, "");
}

TEST_F(ConfigTest, Defaults) {
  ExpectDefaults(Load("", {}));
  // Variables outside the BERTH_ namespace are ignored.
  ExpectDefaults(Load("", {"PATH=/usr/bin", "BERTHA=1", "HOME=/root", "berth_registry_port=1"}));
  ExpectDefaults(Load(Yaml(""), {}));
}

TEST_F(ConfigTest, DefaultYamlLoadsToDefaults) { ExpectDefaults(Load(Yaml(DefaultYaml()), {})); }

TEST_F(ConfigTest, YamlOverrides) {
  Config c = Load(Yaml("log:\n  level: debug\n"
                       "storage:\n  root: /srv/berth\n"
                       "registry:\n  addr: 127.0.0.1\n  port: 5000\n"
                       "  max_manifest_bytes: 8388608\n"
                       "tls:\n  enabled: false\n  cert: /c.pem\n  key: /k.pem\n"
                       "http:\n  io_threads: 4\n  shutdown_grace: 0\n"),
                  {});
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.storage.root, "/srv/berth");
  EXPECT_EQ(c.registry.addr, "127.0.0.1");
  EXPECT_EQ(c.registry.port, 5000u);
  EXPECT_EQ(c.registry.max_manifest_bytes, 8u * 1024 * 1024);
  EXPECT_FALSE(c.tls.enabled);
  EXPECT_EQ(c.tls.cert, "/c.pem");
  EXPECT_EQ(c.tls.key, "/k.pem");
  EXPECT_EQ(c.http.io_threads, 4u);
  EXPECT_EQ(c.http.shutdown_grace, 0u);
  // Untouched keys keep their defaults.
  EXPECT_EQ(c.http.blocking_threads, 16u);
}

TEST_F(ConfigTest, UiKeys) {
  Config c = Load(Yaml("ui:\n  enabled: false\n  ca_file: /etc/ssl/realm.pem\n"), {});
  EXPECT_FALSE(c.ui.enabled);
  EXPECT_EQ(c.ui.ca_file, "/etc/ssl/realm.pem");
  c = Load("", {"BERTH_UI_ENABLED=false", "BERTH_UI_CA_FILE=/x.pem"});
  EXPECT_FALSE(c.ui.enabled);
  EXPECT_EQ(c.ui.ca_file, "/x.pem");
}

TEST_F(ConfigTest, EnvironmentOverrides) {
  Config c = Load("", {"BERTH_REGISTRY_PORT=5001", "BERTH_LOG_LEVEL=warn", "BERTH_TLS_ENABLED=off",
                       "BERTH_HTTP_IO_THREADS=8", "BERTH_REGISTRY_MAX_MANIFEST_BYTES=4194304",
                       "BERTH_STORAGE_ROOT=/data"});
  EXPECT_EQ(c.registry.port, 5001u);
  EXPECT_EQ(c.log.level, "warn");
  EXPECT_FALSE(c.tls.enabled);
  EXPECT_EQ(c.http.io_threads, 8u);
  EXPECT_EQ(c.registry.max_manifest_bytes, 4u * 1024 * 1024);
  EXPECT_EQ(c.storage.root, "/data");
}

TEST_F(ConfigTest, LifecycleKeys) {
  Config c = Load(Yaml(R"(
gc: {interval: 0, delay: 0, untagged_delay: 5, batch: 7}
uploads: {max_age: 120}
quota:
  default: 1000
  namespaces: {alice: 5, bob: 0}
retention:
  dry_run: true
  policies:
    - repositories: "alice/*"
      keep_last: 3
      keep_tags: "^v"
    - {repositories: "**", keep_days: 30}
)"),
                  {"BERTH_GC_DELAY=9"});
  EXPECT_EQ(c.gc.interval, 0u);
  EXPECT_EQ(c.gc.delay, 9u);
  EXPECT_EQ(c.gc.untagged_delay, 5u);
  EXPECT_EQ(c.gc.batch, 7u);
  EXPECT_EQ(c.uploads.max_age, 120u);
  EXPECT_EQ(c.quota.default_bytes, 1000u);
  EXPECT_EQ(c.quota.namespaces.at("alice"), 5u);
  EXPECT_EQ(c.quota.namespaces.at("bob"), 0u);
  EXPECT_TRUE(c.retention.dry_run);
  ASSERT_EQ(c.retention.policies.size(), 2u);
  EXPECT_EQ(c.retention.policies[0].repositories, "alice/*");
  EXPECT_EQ(c.retention.policies[0].keep_last, 3u);
  EXPECT_FALSE(c.retention.policies[0].keep_days);
  EXPECT_EQ(c.retention.policies[0].keep_tags, "^v");
  EXPECT_EQ(c.retention.policies[1].keep_days, 30u);
}

TEST_F(ConfigTest, LifecycleErrorsNameTheKey) {
  EXPECT_NE(ErrorOf(Yaml("retention:\n  policies:\n    - {keep_last: 1}\n"), {})
                .find("retention.policies[0].repositories"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Yaml("retention:\n  policies:\n    - {repositories: x, keep: 1}\n"), {})
                .find("retention.policies[0].keep"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Yaml("quota:\n  namespaces: {alice: lots}\n"), {}).find("quota.namespaces.alice"),
      std::string::npos);
  EXPECT_NE(ErrorOf("", {"BERTH_QUOTA_NAMESPACES=alice"}).find("YAML"), std::string::npos);
}

TEST_F(ConfigTest, NotificationKeys) {
  Config c = Load(Yaml(R"(
notifications:
  queue_max: 50
  blobs: true
  endpoints:
    - name: audit
      url: https://hooks.example/registry
      headers: {Authorization: "Bearer s3cret", X-Env: prod}
      timeout: 3
      backoff: 2
      backoff_max: 60
      actions: [push, delete]
      media_types: [application/vnd.oci.image.manifest.v1+json]
      repositories: ["team/**"]
    - {name: all, url: "http://127.0.0.1:8080/"}
)"),
                  {"BERTH_NOTIFICATIONS_PULLS=true"});
  EXPECT_EQ(c.notifications.queue_max, 50u);
  EXPECT_TRUE(c.notifications.blobs);
  EXPECT_TRUE(c.notifications.pulls);
  ASSERT_EQ(c.notifications.endpoints.size(), 2u);
  const auto& a = c.notifications.endpoints[0];
  EXPECT_EQ(a.name, "audit");
  EXPECT_EQ(a.url, "https://hooks.example/registry");
  EXPECT_EQ(a.headers.at("Authorization"), "Bearer s3cret");
  EXPECT_EQ(a.headers.at("X-Env"), "prod");
  EXPECT_EQ(a.timeout, 3u);
  EXPECT_EQ(a.backoff, 2u);
  EXPECT_EQ(a.backoff_max, 60u);
  EXPECT_EQ(a.actions, (Strings{"push", "delete"}));
  EXPECT_EQ(a.media_types, (Strings{"application/vnd.oci.image.manifest.v1+json"}));
  EXPECT_EQ(a.repositories, (Strings{"team/**"}));
  const auto& b = c.notifications.endpoints[1];
  EXPECT_EQ(b.timeout, 5u);
  EXPECT_EQ(b.backoff, 1u);
  EXPECT_EQ(b.backoff_max, 300u);
  EXPECT_TRUE(b.actions.empty());
}

TEST_F(ConfigTest, NotificationErrorsNameTheKey) {
  struct Case {
    std::string yaml;
    std::string key;
  };
  const Case cases[] = {
      {"notifications:\n  endpoints:\n    - {url: http://x/}\n", "notifications.endpoints[0].name"},
      {"notifications:\n  endpoints:\n    - {name: a}\n", "notifications.endpoints[0].url"},
      {"notifications:\n  endpoints:\n    - {name: a, url: ftp://x/}\n",
       "notifications.endpoints[0].url"},
      {"notifications:\n  endpoints:\n    - {name: 'a b', url: http://x/}\n",
       "notifications.endpoints[0].name"},
      {"notifications:\n  endpoints:\n    - {name: a, url: http://x/}\n    - {name: a, url: "
       "http://y/}\n",
       "notifications.endpoints[1].name"},
      {"notifications:\n  endpoints:\n    - {name: a, url: http://x/, actions: [push, tag]}\n",
       "notifications.endpoints[0].actions"},
      {"notifications:\n  endpoints:\n    - {name: a, url: http://x/, timeout: 0}\n",
       "notifications.endpoints[0].timeout"},
      {"notifications:\n  endpoints:\n    - {name: a, url: http://x/, backoff: 10, backoff_max: "
       "5}\n",
       "notifications.endpoints[0].backoff_max"},
      {"notifications:\n  endpoints:\n    - {name: a, url: http://x/, retries: 5}\n",
       "notifications.endpoints[0].retries"},
      {"notifications:\n  endpoints:\n    - {name: a, url: http://x/, headers: [a]}\n",
       "notifications.endpoints[0].headers"},
      {"notifications:\n  endpoints:\n    - name: a\n      url: http://x/\n      headers: "
       "{\"X-A\": \"1\\r\\nX-B: 2\"}\n",
       "notifications.endpoints[0].headers.X-A"},
      {"notifications:\n  endpoints: {name: a}\n", "notifications.endpoints"},
      {"notifications:\n  queue_max: 0\n", "notifications.queue_max"},
      {"notifications:\n  blobs: maybe\n", "notifications.blobs"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(ErrorOf(Yaml(c.yaml), {}).find("'" + c.key + "'"), std::string::npos)
        << c.yaml << " -> " << ErrorOf(Yaml(c.yaml), {});
  }
  EXPECT_NE(ErrorOf("", {"BERTH_NOTIFICATIONS_ENDPOINTS=x"}).find("YAML"), std::string::npos);
}

TEST_F(ConfigTest, ScaleOutKeys) {
  Config c = Load(Yaml(R"(
storage:
  driver: s3
s3:
  endpoint: http://127.0.0.1:7480
  bucket: images
  prefix: berth/
  access_key: AK
  redirect: true
  part_size: 16777216
metadata:
  driver: postgres
)"),
                  {"BERTH_S3_SECRET_KEY=sk", "BERTH_POSTGRES_DSN=host=127.0.0.1 dbname=berth",
                   "BERTH_POSTGRES_POOL_SIZE=4"});
  EXPECT_EQ(c.storage.driver, "s3");
  EXPECT_EQ(c.s3.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(c.s3.bucket, "images");
  EXPECT_EQ(c.s3.prefix, "berth/");
  EXPECT_EQ(c.s3.secret_key, "sk");
  EXPECT_EQ(c.s3.region, "us-east-1");
  EXPECT_TRUE(c.s3.redirect);
  EXPECT_EQ(c.s3.part_size, 16u * 1024 * 1024);
  EXPECT_EQ(c.s3.upload_memory, 128u << 20);
  EXPECT_EQ(Load("", {"BERTH_S3_UPLOAD_MEMORY=0"}).s3.upload_memory, 0u);
  EXPECT_EQ(c.metadata.driver, "postgres");
  EXPECT_EQ(c.postgres.dsn, "host=127.0.0.1 dbname=berth");
  EXPECT_EQ(c.postgres.pool_size, 4u);
  // The embedded pair stays the default.
  Config d = Load("", {});
  EXPECT_EQ(d.storage.driver, "filesystem");
  EXPECT_EQ(d.metadata.driver, "sqlite");
}

TEST_F(ConfigTest, ScaleOutErrorsNameTheKey) {
  const std::string s3 =
      "storage:\n  driver: s3\ns3:\n  endpoint: http://h:1\n  bucket: b\n  access_key: a\n";
  EXPECT_EQ(ErrorOf(Yaml(s3), {"BERTH_S3_SECRET_KEY=x"}), "<no error>");
  EXPECT_NE(ErrorOf(Yaml(s3), {}).find("'s3.secret_key'"), std::string::npos);
  EXPECT_NE(ErrorOf("", {"BERTH_STORAGE_DRIVER=s3"}).find("'s3.endpoint'"), std::string::npos);
  EXPECT_NE(
      ErrorOf("", {"BERTH_STORAGE_DRIVER=s3", "BERTH_S3_ENDPOINT=ftp://x"}).find("'s3.endpoint'"),
      std::string::npos);
  EXPECT_NE(ErrorOf("", {"BERTH_STORAGE_DRIVER=nfs"}).find("'storage.driver'"), std::string::npos);
  EXPECT_NE(ErrorOf("", {"BERTH_METADATA_DRIVER=postgres"}).find("'postgres.dsn'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("", {"BERTH_METADATA_DRIVER=mysql"}).find("'metadata.driver'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("", {"BERTH_S3_PART_SIZE=1048576"}).find("'s3.part_size'"), std::string::npos);
}

TEST_F(ConfigTest, EnvironmentWinsOverFile) {
  std::string path = Yaml("registry:\n  port: 5000\n  addr: 10.0.0.1\n");
  Config c = Load(path, {"BERTH_REGISTRY_PORT=6000"});
  EXPECT_EQ(c.registry.port, 6000u);
  EXPECT_EQ(c.registry.addr, "10.0.0.1");
}

TEST_F(ConfigTest, Booleans) {
  for (const char* yes : {"true", "yes", "on", "1"}) {
    EXPECT_TRUE(Load("", {std::string("BERTH_TLS_ENABLED=") + yes}).tls.enabled) << yes;
  }
  for (const char* no : {"false", "no", "off", "0"}) {
    EXPECT_FALSE(Load("", {std::string("BERTH_TLS_ENABLED=") + no}).tls.enabled) << no;
  }
}

TEST_F(ConfigTest, UnknownYamlKeyNamesTheKey) {
  const std::pair<std::string, std::string> cases[] = {
      {"registry:\n  prot: 5000\n", "registry.prot"},
      {"nosuch: 1\n", "nosuch"},
      {"http:\n  timeouts:\n    header: 1\n", "http.timeouts"},
      {"tls:\n  hosts:\n    extra: 1\n", "tls.hosts"},  // a mapping where a list belongs
  };
  for (const auto& [yaml, key] : cases) {
    SCOPED_TRACE(yaml);
    std::string error = ErrorOf(Yaml(yaml), {});
    EXPECT_NE(error.find(key), std::string::npos) << error;
  }
}

// A head limit above 64 KiB would let one field outgrow what Beast can hold.
TEST_F(ConfigTest, HeaderLimitIsAtMost64KiB) {
  EXPECT_EQ(Load("", {"BERTH_HTTP_MAX_HEADER_BYTES=65536"}).http.max_header_bytes, 65536u);
  EXPECT_NE(ErrorOf("", {"BERTH_HTTP_MAX_HEADER_BYTES=65537"}).find("http.max_header_bytes"),
            std::string::npos);
}

TEST_F(ConfigTest, UnknownEnvironmentVariableThrows) {
  std::string error = ErrorOf("", {"BERTH_REGISTRY_PROT=5000"});
  EXPECT_NE(error.find("BERTH_REGISTRY_PROT"), std::string::npos) << error;
  error = ErrorOf("", {"BERTH_="});
  EXPECT_NE(error, "<no error>");
}

TEST_F(ConfigTest, BadValuesNameTheKey) {
  struct Case {
    std::string key;  // dotted
    std::string env;
    std::string yaml;
  } cases[] = {
      {"registry.port", "BERTH_REGISTRY_PORT=70000", "registry:\n  port: 70000\n"},
      {"registry.port", "BERTH_REGISTRY_PORT=abc", "registry:\n  port: abc\n"},
      {"registry.port", "BERTH_REGISTRY_PORT=-1", "registry:\n  port: -1\n"},
      {"registry.port", "BERTH_REGISTRY_PORT=", "registry:\n  port:\n"},
      {"registry.port", "BERTH_REGISTRY_PORT=80x", "registry:\n  port: 80x\n"},
      {"registry.port", "BERTH_REGISTRY_PORT=99999999999999999999999",
       "registry:\n  port: 99999999999999999999999\n"},
      {"tls.enabled", "BERTH_TLS_ENABLED=maybe", "tls:\n  enabled: maybe\n"},
      {"log.level", "BERTH_LOG_LEVEL=verbose", "log:\n  level: verbose\n"},
      {"log.level", "BERTH_LOG_LEVEL=INFO", "log:\n  level: INFO\n"},
      {"storage.root", "BERTH_STORAGE_ROOT=", "storage:\n  root: \"\"\n"},
      {"http.io_threads", "BERTH_HTTP_IO_THREADS=0", "http:\n  io_threads: 0\n"},
      {"registry.max_manifest_bytes", "BERTH_REGISTRY_MAX_MANIFEST_BYTES=1",
       "registry:\n  max_manifest_bytes: 1\n"},
      {"registry.port", "", "registry:\n  port: [1, 2]\n"},
      {"registry", "", "registry: 5000\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    if (!c.env.empty()) {
      std::string error = ErrorOf("", {c.env});
      EXPECT_NE(error.find("'" + c.key + "'"), std::string::npos) << c.env << ": " << error;
    }
    std::string error = ErrorOf(Yaml(c.yaml), {});
    EXPECT_NE(error.find("'" + c.key + "'"), std::string::npos) << error;
  }
}

TEST_F(ConfigTest, PortBounds) {
  EXPECT_EQ(Load("", {"BERTH_REGISTRY_PORT=0"}).registry.port, 0u);
  EXPECT_EQ(Load("", {"BERTH_REGISTRY_PORT=65535"}).registry.port, 65535u);
  EXPECT_NE(ErrorOf("", {"BERTH_REGISTRY_PORT=65536"}), "<no error>");
}

TEST_F(ConfigTest, UnreadableFileThrows) {
  EXPECT_NE(ErrorOf(dir_ + "/missing.yaml", {}), "<no error>");
  EXPECT_NE(ErrorOf(Yaml("registry: [unclosed\n"), {}), "<no error>");
  EXPECT_NE(ErrorOf(Yaml("- a\n- b\n"), {}), "<no error>");  // top level not a mapping
}

TEST_F(ConfigTest, TlsHostsAsYamlList) {
  Config c = Load(Yaml("tls:\n  hosts:\n    - registry.example\n    - 10.0.0.5\n"), {});
  EXPECT_EQ(c.tls.hosts, Strings({"registry.example", "10.0.0.5"}));
  c = Load(Yaml("tls:\n  hosts: [a.example]\n"), {});
  EXPECT_EQ(c.tls.hosts, Strings{"a.example"});
  c = Load(Yaml("tls:\n  hosts: []\n"), {});
  EXPECT_TRUE(c.tls.hosts.empty());
}

TEST_F(ConfigTest, TrustedProxies) {
  EXPECT_TRUE(Load("", {}).http.trusted_proxies.empty());
  Config c = Load(Yaml("http:\n  trusted_proxies: [10.0.0.5, \"fd00::/8\"]\n"), {});
  EXPECT_EQ(c.http.trusted_proxies, Strings({"10.0.0.5", "fd00::/8"}));
  c = Load("", {"BERTH_HTTP_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8"});
  EXPECT_EQ(c.http.trusted_proxies, Strings({"127.0.0.1", "10.0.0.0/8"}));
}

TEST_F(ConfigTest, TlsHostsAsCommaSeparatedEnv) {
  Config c = Load("", {"BERTH_TLS_HOSTS=a.example,b.example,,10.0.0.5"});
  EXPECT_EQ(c.tls.hosts, Strings({"a.example", "b.example", "10.0.0.5"}));
  // The environment replaces the file's list rather than adding to it.
  c = Load(Yaml("tls:\n  hosts: [x.example, y.example]\n"), {"BERTH_TLS_HOSTS=z.example"});
  EXPECT_EQ(c.tls.hosts, Strings{"z.example"});
  c = Load("", {"BERTH_TLS_HOSTS="});
  EXPECT_TRUE(c.tls.hosts.empty());
}

// Regression: a non-scalar list entry used to escape as a yaml-cpp exception
// instead of a ConfigError naming the key.
TEST_F(ConfigTest, NestedTlsHostsIsConfigError) {
  std::string error = ErrorOf(Yaml("tls:\n  hosts:\n    - [a, b]\n"), {});
  EXPECT_NE(error.find("'tls.hosts'"), std::string::npos) << error;
}

TEST_F(ConfigTest, RefreshTokenLifetimes) {
  Config d = Load("", {});
  EXPECT_EQ(d.token.refresh_ttl, 30u * 86400);
  EXPECT_EQ(d.token.refresh_idle_ttl, 7u * 86400);
  Config c = Load(Yaml("token:\n  refresh_ttl: 3600\n  refresh_idle_ttl: 600\n"), {});
  EXPECT_EQ(c.token.refresh_ttl, 3600u);
  EXPECT_EQ(c.token.refresh_idle_ttl, 600u);
  c = Load("", {"BERTH_TOKEN_REFRESH_TTL=86400", "BERTH_TOKEN_REFRESH_IDLE_TTL=120"});
  EXPECT_EQ(c.token.refresh_ttl, 86400u);
  EXPECT_EQ(c.token.refresh_idle_ttl, 120u);
  std::string error = ErrorOf("", {"BERTH_TOKEN_REFRESH_TTL=0"});
  EXPECT_NE(error.find("'token.refresh_ttl'"), std::string::npos) << error;
  error = ErrorOf("", {"BERTH_TOKEN_REFRESH_IDLE_TTL=1y"});
  EXPECT_NE(error.find("'token.refresh_idle_ttl'"), std::string::npos) << error;
  // `berth init` writes them with their defaults.
  Config y = Load(Yaml(DefaultYaml()), {});
  EXPECT_EQ(y.token.refresh_ttl, d.token.refresh_ttl);
  EXPECT_EQ(y.token.refresh_idle_ttl, d.token.refresh_idle_ttl);
  EXPECT_NE(DefaultYaml().find("refresh_idle_ttl:"), std::string::npos);
}

}  // namespace
}  // namespace berth::config
