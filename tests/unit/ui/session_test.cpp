// Tests for ui/session.hpp: reading the session cookie, the Set-Cookie
// values, the CSRF token and the same-origin checks.

#include "ui/session.hpp"

#include <gtest/gtest.h>

namespace berth::ui {
namespace {

http::Request Req(http::Fields headers) {
  http::Request r;
  r.method = "POST";
  r.path = "/ui/api/logout";
  r.headers = std::move(headers);
  return r;
}

TEST(UiSessionTest, CookieValue) {
  struct Case {
    const char* header;
    const char* want;  // nullptr: none
  };
  const Case cases[] = {
      {"berth_ui=abc", "abc"},
      {"a=1; berth_ui=abc; b=2", "abc"},
      {"  berth_ui = abc ;", "abc"},
      {"berth_ui=\"abc\"", "abc"},
      {"xberth_ui=abc", nullptr},
      {"berth_uix=abc", nullptr},
      {"a=1;b", nullptr},
      {"", nullptr},
      {"berth_ui=", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    auto v = CookieValue(c.header, "berth_ui");
    if (!c.want) {
      EXPECT_FALSE(v.has_value());
    } else {
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(*v, c.want);
    }
  }
}

TEST(UiSessionTest, SessionFromRejectsMalformedValues) {
  EXPECT_EQ(SessionFrom(Req({{"cookie", "berth_ui=Ab0-_.~+/="}})).value_or("?"), "Ab0-_.~+/=");
  EXPECT_EQ(SessionFrom(Req({{"Cookie", "a=1"}, {"Cookie", "berth_ui=t2"}})).value_or("?"), "t2");
  EXPECT_FALSE(SessionFrom(Req({})).has_value());
  EXPECT_FALSE(SessionFrom(Req({{"Cookie", "berth_ui="}})).has_value());
  EXPECT_FALSE(SessionFrom(Req({{"Cookie", "berth_ui=a<b"}})).has_value());
  EXPECT_FALSE(SessionFrom(Req({{"Cookie", "berth_ui=" + std::string(513, 'a')}})).has_value());
  EXPECT_FALSE(SessionFrom(Req({{"X-Cookie", "berth_ui=abc"}})).has_value());
}

TEST(UiSessionTest, CookiesAreHttpOnlyStrictAndScopedToUi) {
  EXPECT_EQ(SessionCookie("tok", 600, true),
            "berth_ui=tok; Path=/ui/; Max-Age=600; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(SessionCookie("tok", 600, false),
            "berth_ui=tok; Path=/ui/; Max-Age=600; HttpOnly; SameSite=Strict");
  EXPECT_EQ(ClearedCookie(true),
            "berth_ui=; Path=/ui/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
}

TEST(UiSessionTest, CsrfTokenIsPerSession) {
  EXPECT_EQ(CsrfToken("a").size(), 64u);
  EXPECT_EQ(CsrfToken("a"), CsrfToken("a"));
  EXPECT_NE(CsrfToken("a"), CsrfToken("b"));
  EXPECT_NE(CsrfToken("a"), "a");
}

TEST(UiSessionTest, CheckOrigin) {
  const http::Fields host = {{"Host", "reg:9001"}};
  auto with = [&](http::Fields extra) {
    http::Fields f = host;
    f.insert(f.end(), extra.begin(), extra.end());
    return Req(f);
  };
  EXPECT_TRUE(CheckOrigin(with({}), true).ok());
  EXPECT_TRUE(CheckOrigin(with({{"Origin", "https://reg:9001"}}), true).ok());
  EXPECT_TRUE(CheckOrigin(with({{"Origin", "http://reg:9001"}}), false).ok());
  EXPECT_TRUE(CheckOrigin(with({{"Sec-Fetch-Site", "same-origin"}}), true).ok());
  EXPECT_EQ(CheckOrigin(with({{"Origin", "http://reg:9001"}}), true).code(), Errc::kDenied);
  EXPECT_EQ(CheckOrigin(with({{"Origin", "https://evil.example"}}), true).code(), Errc::kDenied);
  EXPECT_EQ(CheckOrigin(with({{"Origin", "null"}}), true).code(), Errc::kDenied);
  EXPECT_EQ(CheckOrigin(with({{"Sec-Fetch-Site", "cross-site"}}), true).code(), Errc::kDenied);
  EXPECT_EQ(CheckOrigin(with({{"Sec-Fetch-Site", "same-site"}}), true).code(), Errc::kDenied);
  EXPECT_EQ(CheckOrigin(Req({{"Origin", "https://reg:9001"}}), true).code(), Errc::kDenied);
}

TEST(UiSessionTest, CheckStateChangeNeedsTheSessionsCsrfToken) {
  const std::string good = CsrfToken("s1");
  EXPECT_TRUE(CheckStateChange(Req({{"Host", "h"}, {"X-CSRF-Token", good}}), "s1", true).ok());
  EXPECT_EQ(CheckStateChange(Req({{"Host", "h"}}), "s1", true).code(), Errc::kDenied);
  EXPECT_EQ(
      CheckStateChange(Req({{"Host", "h"}, {"X-CSRF-Token", CsrfToken("s2")}}), "s1", true).code(),
      Errc::kDenied);
  EXPECT_EQ(
      CheckStateChange(Req({{"Host", "h"}, {"X-CSRF-Token", good.substr(1)}}), "s1", true).code(),
      Errc::kDenied);
  EXPECT_EQ(
      CheckStateChange(Req({{"Host", "h"}, {"Origin", "https://evil"}, {"X-CSRF-Token", good}}),
                       "s1", true)
          .code(),
      Errc::kDenied);
}

}  // namespace
}  // namespace berth::ui
