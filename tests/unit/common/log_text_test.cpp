#include "common/log_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

TEST(LogSafe, KeepsPlainText) { EXPECT_EQ(LogSafe("alice/app:v1"), "alice/app:v1"); }

TEST(LogSafe, EmptyBecomesDash) { EXPECT_EQ(LogSafe(""), "-"); }

TEST(LogSafe, NewlinesCannotForgeALine) {
  std::string forged = LogSafe("x\naudit token user=admin admin=true");
  EXPECT_EQ(forged.find('\n'), std::string::npos);
  EXPECT_EQ(forged, "x\\naudit token user=admin admin=true");
}

TEST(LogSafe, EscapesControlBytesQuotesAndBackslash) {
  EXPECT_EQ(LogSafe(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(LogSafe("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(LogSafe("\x7f"), "\\x7f");
  EXPECT_EQ(LogSafe("say \"hi\" \\ \r\t"), "say \\\"hi\\\" \\\\ \\r\\t");
}

TEST(LogSafe, KeepsValidUtf8AndEscapesInvalid) {
  EXPECT_EQ(LogSafe("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x90\xb3"),
            "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x90\xb3");
  EXPECT_EQ(LogSafe("\xff"), "\\xff");
  EXPECT_EQ(LogSafe("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(LogSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(LogSafe("\xe2\x82"), "\\xe2\\x82");           // truncated
}

TEST(LogSafe, CapsLength) {
  std::string big(10000, 'a');
  std::string out = LogSafe(big, 16);
  EXPECT_EQ(out, std::string(16, 'a') + "...(+9984 bytes)");
}

}  // namespace
}  // namespace berth
