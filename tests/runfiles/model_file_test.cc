// model.bin: the layout docs/outputs.md gives, bit-exact values, the hash
// the summary records, and files that are not a whole model refused.
#include "runfiles/model_file.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "runfiles/atomic_file.h"
#include "schemas/codec/wire.h"
#include "tests/temp_files.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

std::string TempDir() { return testing::TempDir("edgefl-model-test"); }

std::vector<uint8_t> Bytes(const std::string& path) { return testing::ReadBytes(path); }
void Write(const std::string& path, const std::vector<uint8_t>& bytes) { testing::WriteBytes(path, bytes); }

template <typename T>
T At(const std::vector<uint8_t>& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

std::string Message(const Status& s) { return s.message(); }

// Values whose bits a float round trip could lose: NaN payloads, -0, inf,
// denormals.
std::vector<float> OddValues() {
  return {1.5f, -0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(),
          std::bit_cast<float>(0x7fc01234u), -3.25e-30f, 123456.789f};
}

TEST_CASE("model.bin holds its header at the documented offsets and the values bit for bit") {
  const std::string dir = TempDir();
  const std::vector<float> model = OddValues();
  uint64_t hash = 0;
  REQUIRE(WriteModelFile(dir + "/model.bin", model, &hash).ok());
  CHECK_FALSE(fs::exists(dir + "/model.bin.tmp"));
  const std::vector<uint8_t> bytes = Bytes(dir + "/model.bin");
  REQUIRE(bytes.size() == 32 + 4 * model.size());
  CHECK(std::memcmp(bytes.data(), "EDGEFLMD", 8) == 0);
  CHECK(At<uint32_t>(bytes, 8) == 1);
  CHECK(At<uint32_t>(bytes, 12) == 1);
  CHECK(At<uint64_t>(bytes, 16) == model.size());
  CHECK(At<uint64_t>(bytes, 24) == hash);
  CHECK(std::memcmp(bytes.data() + 32, model.data(), 4 * model.size()) == 0);
  // The summary's model_hash: FNV-1a over the file's value bytes, which is
  // codec::ModelHash of the model.
  CHECK(hash == codec::ModelHash(model));

  std::vector<float> read;
  uint64_t read_hash = 0;
  REQUIRE(ReadModelFile(dir + "/model.bin", &read, &read_hash).ok());
  CHECK(read_hash == hash);
  REQUIRE(read.size() == model.size());
  CHECK(std::memcmp(read.data(), model.data(), 4 * model.size()) == 0);
  fs::remove_all(dir);
}

TEST_CASE("a truncated, corrupted, foreign or other-version model file is refused, naming what is wrong") {
  const std::string dir = TempDir();
  const std::string path = dir + "/model.bin";
  uint64_t hash = 0;
  REQUIRE(WriteModelFile(path, OddValues(), &hash).ok());
  const std::vector<uint8_t> good = Bytes(path);
  std::vector<float> model;
  const auto refusal = [&](std::vector<uint8_t> bytes) {
    Write(path, bytes);
    const Status s = ReadModelFile(path, &model, &hash);
    CHECK(s.code() == StatusCode::kMalformed);
    return Message(s);
  };
  CHECK(refusal({good.begin(), good.end() - 3}).find("says d = 7 (28 bytes of values) but holds 25") !=
        std::string::npos);
  CHECK(refusal({good.begin(), good.begin() + 20}).find("not an edgefl model file") != std::string::npos);
  std::vector<uint8_t> flipped = good;
  flipped[40] ^= 0x04;
  CHECK(refusal(flipped).find("is corrupt: its values hash to") != std::string::npos);
  std::vector<uint8_t> version = good;
  version[8] = 2;
  CHECK(refusal(version).find("model format version 2; this build reads version 1") != std::string::npos);
  std::vector<uint8_t> type = good;
  type[12] = 2;
  CHECK(refusal(type).find("values of type 2") != std::string::npos);
  CHECK(refusal(std::vector<uint8_t>(64, 'x')).find("not an edgefl model file") != std::string::npos);
  CHECK(Message(ReadModelFile(dir + "/missing.bin", &model, &hash)).find("cannot open") != std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace edgefl
