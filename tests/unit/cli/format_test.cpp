// Tests for cli/admin/format.hpp: binary units at their boundaries, and
// table alignment.

#include "cli/admin/format.hpp"

#include <gtest/gtest.h>

namespace berth::cli::admin {
namespace {

TEST(AdminFormat, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(1024 * 1024 - 1), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(HumanBytes(20 * 1024 * 1024), "20.0 MiB");
  EXPECT_EQ(HumanBytes(10500000000), "9.8 GiB");
  EXPECT_EQ(HumanBytes(10737418240), "10.0 GiB");
  EXPECT_EQ(HumanBytes(uint64_t{1} << 50), "1.0 PiB");
  EXPECT_EQ(HumanBytes(UINT64_MAX), "16384.0 PiB");
}

TEST(AdminFormat, Table) {
  EXPECT_EQ(Table({{"NAME", "SIZE"}, {"alice", "1.0 KiB"}, {"b", "2 B"}}, {1}),
            "NAME      SIZE\n"
            "alice  1.0 KiB\n"
            "b          2 B\n");
  EXPECT_EQ(Table({{"a", "b", "c"}, {"long", "x", "y"}}),
            "a     b  c\n"
            "long  x  y\n");
  EXPECT_EQ(Table({}), "");
}

}  // namespace
}  // namespace berth::cli::admin
