#include "runfiles/update_log.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/temp_files.h"

namespace edgefl {
namespace {

std::vector<uint8_t> Message(uint32_t round, uint32_t node) {
  // Lengths that need padding and lengths that do not.
  return std::vector<uint8_t>(13 + 3 * node + round, static_cast<uint8_t>(16 * round + node));
}

TEST_CASE("updates.bin: records read back whole and aligned; a resume keeps the rounds before its own") {
  const std::string dir = testing::TempDir("update_log");
  {
    UpdateLog log;
    REQUIRE(log.Open(dir).ok());
    for (uint32_t round = 0; round < 4; ++round) {
      for (const uint32_t node : {2u, 0u, 1u}) REQUIRE(log.Append(round, node, Message(round, node)).ok());
    }
  }
  std::vector<KeptUpdate> updates;
  REQUIRE(ReadUpdateLog(dir + "/" + kUpdateLogFile, &updates).ok());
  REQUIRE(updates.size() == 12);
  CHECK(updates[4].round == 1);
  CHECK(updates[4].node == 0);
  const std::vector<uint8_t> expected = Message(1, 0);
  REQUIRE(updates[4].bytes == expected.size());
  CHECK(std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(updates[4].message.data()),
                             reinterpret_cast<const uint8_t*>(updates[4].message.data()) + updates[4].bytes) ==
        expected);

  // A crash mid-record: the torn record is dropped.
  std::vector<uint8_t> bytes = testing::ReadBytes(dir + "/" + kUpdateLogFile);
  bytes.resize(bytes.size() - 5);
  testing::WriteBytes(dir + "/" + kUpdateLogFile, bytes);
  REQUIRE(ReadUpdateLog(dir + "/" + kUpdateLogFile, &updates).ok());
  CHECK(updates.size() == 11);

  {
    UpdateLog log;
    REQUIRE(log.Resume(dir, 2).ok());  // rounds 0 and 1 kept; round 2 again
    REQUIRE(log.Append(2, 7, Message(2, 7)).ok());
  }
  REQUIRE(ReadUpdateLog(dir + "/" + kUpdateLogFile, &updates).ok());
  REQUIRE(updates.size() == 7);
  CHECK(updates[6].round == 2);
  CHECK(updates[6].node == 7);

  testing::WriteTextFile(dir + "/" + kUpdateLogFile, "not a log at all");
  CHECK_FALSE(ReadUpdateLog(dir + "/" + kUpdateLogFile, &updates).ok());
}

}  // namespace
}  // namespace edgefl
