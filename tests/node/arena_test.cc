#include "node/arena.h"

#include <doctest/doctest.h>

#include <string>

namespace edgefl {
namespace {

TEST_CASE("arena hands out aligned, zeroed buffers and counts what it used") {
  Arena arena(1024);
  auto a = arena.Allocate<float>(10, "a");
  auto b = arena.Allocate<uint8_t>(3, "b");
  REQUIRE(a.size() == 10);
  REQUIRE(b.size() == 3);
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % Arena::kAlignment == 0);
  CHECK(reinterpret_cast<uintptr_t>(b.data()) % Arena::kAlignment == 0);
  for (float x : a) CHECK(x == 0.0f);
  CHECK(arena.used() == 64 + 3);
  CHECK(arena.status().ok());
}

TEST_CASE("an arena out of room names the buffer and the bytes") {
  Arena arena(100);
  CHECK(arena.Allocate<float>(20, "gradient").size() == 20);  // 80 bytes
  CHECK(arena.Allocate<float>(20, "model replica").empty());
  CHECK(arena.status().code() == StatusCode::kResourceExhausted);
  const std::string message = arena.status().message();
  CHECK(message.find("model replica") != std::string::npos);
  CHECK(message.find("80 bytes") != std::string::npos);
}

}  // namespace
}  // namespace edgefl
