#include "runfiles/audit_trail.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runfiles/run_folder.h"
#include "tests/temp_files.h"

namespace edgefl {
namespace {

std::span<const uint8_t> Bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// A chain of `rounds` rounds in `dir`, updates from nodes 0..2 added in
// `order`, the model moving by 1 each round.
void WriteChain(const std::string& dir, int rounds, const std::vector<uint32_t>& order, std::vector<uint8_t> key) {
  const std::string config = "[run]\nname = \"audit\"\n";
  testing::WriteTextFile(dir + "/" + kConfigFile, config);
  AuditTrail trail;
  REQUIRE(trail.Open(dir, config, std::move(key)).ok());
  std::vector<float> model(5, 1.0f);
  const std::vector<double> direction(5, -1.0);
  for (int r = 0; r < rounds; ++r) {
    trail.Begin(model);
    for (const uint32_t node : order) {
      trail.AddUpdate(node, static_cast<uint32_t>(r), Bytes("update of node " + std::to_string(node)));
    }
    for (float& v : model) v += 1.0f;
    REQUIRE(trail.Record(static_cast<uint32_t>(r), 0.5, direction, model).ok());
  }
}

TEST_CASE("BLAKE2b-256 matches its published test vectors") {
  CHECK(ToHex(Blake2b(Bytes(""))) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  CHECK(ToHex(Blake2b(Bytes("abc"))) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST_CASE("the chain verifies, does not depend on the order updates arrive in, and finds an edited line") {
  const std::string a = testing::TempDir("audit_a"), b = testing::TempDir("audit_b");
  WriteChain(a, 4, {2, 0, 1}, {});
  WriteChain(b, 4, {0, 1, 2}, {});
  CHECK(testing::ReadTextFile(a + "/" + kAuditFile) == testing::ReadTextFile(b + "/" + kAuditFile));
  AuditReport report;
  REQUIRE(VerifyRun(a, {}, &report).ok());
  CHECK(report.rounds == 4);
  CHECK_FALSE(report.keyed);
  CHECK(report.macs_checked);
  CHECK(report.last_model == ToHex(ModelDigest(std::vector<float>(5, 5.0f))));

  // One digit of round 2's update digest changed: that line no longer
  // matches its own digest.
  std::string text = testing::ReadTextFile(a + "/" + kAuditFile);
  const size_t at = text.find("round=2 ");
  const size_t digit = text.find("updates=0:2:", at) + 12;
  text[digit] = text[digit] == '0' ? '1' : '0';
  testing::WriteTextFile(a + "/" + kAuditFile, text);
  const Status edited = VerifyRun(a, {}, &report);
  CHECK_FALSE(edited.ok());
  CHECK(std::string(edited.message()).find("line 4") != std::string::npos);

  // A round taken out breaks the link of the next.
  text = testing::ReadTextFile(b + "/" + kAuditFile);
  const size_t line_start = text.find("round=1 ");
  text.erase(line_start, text.find('\n', line_start) + 1 - line_start);
  testing::WriteTextFile(b + "/" + kAuditFile, text);
  CHECK_FALSE(VerifyRun(b, {}, &report).ok());
}

TEST_CASE("a keyed chain: links check without the key, MACs only with it, and another key is named") {
  const std::string dir = testing::TempDir("audit_keyed");
  const std::vector<uint8_t> key = AuditKeyFromSecret("a secret key of forty z85 characters....");
  WriteChain(dir, 3, {0, 1, 2}, key);
  AuditReport report;
  REQUIRE(VerifyRun(dir, {}, &report).ok());
  CHECK(report.keyed);
  CHECK_FALSE(report.macs_checked);
  REQUIRE(VerifyRun(dir, key, &report).ok());
  CHECK(report.macs_checked);
  const std::vector<uint8_t> other = AuditKeyFromSecret("another secret key of forty characters..");
  const Status wrong = VerifyRun(dir, other, &report);
  CHECK_FALSE(wrong.ok());
  CHECK(std::string(wrong.message()).find("keyed with key") != std::string::npos);

  // A chain rewritten without the key (links recomputed unkeyed) fails the MACs.
  const std::string forged = testing::TempDir("audit_forged");
  WriteChain(forged, 3, {0, 1, 2}, {});
  std::string text = testing::ReadTextFile(forged + "/" + kAuditFile);
  const std::string original = testing::ReadTextFile(dir + "/" + kAuditFile);
  text.replace(0, text.find('\n'), original.substr(0, original.find('\n')));  // claim the keyed header
  testing::WriteTextFile(forged + "/" + kAuditFile, text);
  CHECK_FALSE(VerifyRun(forged, key, &report).ok());
}

TEST_CASE("a resumed chain is cut back to the checkpoint's rounds and gives the model it recorded there") {
  const std::string dir = testing::TempDir("audit_resume");
  WriteChain(dir, 5, {0, 1, 2}, {});
  const std::string config = testing::ReadTextFile(dir + "/" + kConfigFile);
  {
    // A checkpoint whose model is not the one recorded after round 1 is
    // refused, and the chain left as it was.
    const std::string before = testing::ReadTextFile(dir + "/" + kAuditFile);
    AuditTrail refused;
    CHECK_FALSE(refused.Resume(dir, 2, config, {}, std::vector<float>(5, 3.5f)).ok());
    CHECK(testing::ReadTextFile(dir + "/" + kAuditFile) == before);
    // The model after rounds 0 and 1: the run goes on from there, as it
    // first did, and writes the same chain.
    std::vector<float> values(5, 3.0f);
    AuditTrail trail;
    REQUIRE(trail.Resume(dir, 2, config, {}, values).ok());
    const std::vector<double> direction(5, -1.0);
    for (uint32_t r = 2; r < 5; ++r) {
      trail.Begin(values);
      for (const uint32_t node : {1u, 2u, 0u}) trail.AddUpdate(node, r, Bytes("update of node " + std::to_string(node)));
      for (float& v : values) v += 1.0f;
      REQUIRE(trail.Record(r, 0.5, direction, values).ok());
    }
  }
  const std::string again = testing::TempDir("audit_resume_reference");
  WriteChain(again, 5, {0, 1, 2}, {});
  CHECK(testing::ReadTextFile(dir + "/" + kAuditFile) == testing::ReadTextFile(again + "/" + kAuditFile));
  // More rounds than the chain holds: refused.
  AuditTrail trail;
  CHECK_FALSE(trail.Resume(dir, 9, config, {}, std::vector<float>(5, 1.0f)).ok());
}

}  // namespace
}  // namespace edgefl
