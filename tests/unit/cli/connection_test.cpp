// Tests for cli/admin/connection.hpp: the registry URL a config file implies.

#include "cli/admin/connection.hpp"

#include <gtest/gtest.h>

namespace berth::cli::admin {
namespace {

TEST(AdminConnection, DefaultRegistryUrl) {
  config::Config c;
  EXPECT_EQ(DefaultRegistryUrl(c), "https://127.0.0.1:9001");
  c.tls.enabled = false;
  c.registry.port = 5000;
  EXPECT_EQ(DefaultRegistryUrl(c), "http://127.0.0.1:5000");
  for (const char* wildcard : {"", "0.0.0.0", "::", "[::]"}) {
    c.registry.addr = wildcard;
    EXPECT_EQ(DefaultRegistryUrl(c), "http://127.0.0.1:5000") << wildcard;
  }
  c.tls.enabled = true;
  c.registry.addr = "10.0.0.7";
  EXPECT_EQ(DefaultRegistryUrl(c), "https://10.0.0.7:5000");
  c.registry.addr = "::1";
  EXPECT_EQ(DefaultRegistryUrl(c), "https://[::1]:5000");
  c.registry.addr = "registry.internal";
  EXPECT_EQ(DefaultRegistryUrl(c), "https://registry.internal:5000");
}

}  // namespace
}  // namespace berth::cli::admin
