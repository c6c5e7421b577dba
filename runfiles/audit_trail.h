// AuditTrail: audit.log, the run's rounds as a hash chain, beside
// metrics.csv (docs/outputs.md, "audit.log"). Each round's line holds the
// BLAKE2b-256 digests (libsodium's crypto_generichash) of the model before
// the step, of each accepted update's message bytes with its node id and
// round, of the step (its size and direction), and of the resulting model,
// then the previous line's digest and its own:
//
//   edgefl-audit 1 keyed=1 key=<16 hex> config=<64 hex> entry=<64 hex>
//   round=0 before=<hex> updates=0:0:<hex>,1:0:<hex> step=<hex> after=<hex> prev=<hex> entry=<hex>
//
// `entry` is the digest of the line's text before " entry=", which holds
// `prev`: a changed line, a line taken out or put in breaks every later
// link. Updates are listed by node id, so the chain does not depend on
// arrival order. With the coordinator's CURVE key the digests of the lines
// are keyed (a MAC under a key derived from the coordinator's secret key):
// then nobody without that key can write a chain that verifies, so an edited
// model.bin or checkpoint.bin is found even when its own checksum was
// recomputed. Without a key the chain still finds any edit of one file
// against the others. A resumed run cuts the chain back to its checkpoint
// and checks the checkpoint's model against it. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgefl {

inline constexpr const char* kAuditFile = "audit.log";

using Digest = std::array<uint8_t, 32>;

// BLAKE2b-256 of `bytes`, keyed with `key` when it is not empty.
Digest Blake2b(std::span<const uint8_t> bytes, std::span<const uint8_t> key = {});
// Of the model's values as little-endian float32 bytes (model.bin's).
Digest ModelDigest(std::span<const float> model);
std::string ToHex(std::span<const uint8_t> bytes);

// The key a coordinator with CURVE keys signs its chain with: BLAKE2b-256 of
// its Z85 secret key under the personal string "edgefl audit key".
std::vector<uint8_t> AuditKeyFromSecret(const std::string& z85_secret_key);

class AuditTrail {
 public:
  // A fresh run: starts dir/audit.log with the header that binds the chain
  // to the run's config.toml text.
  Status Open(const std::string& dir, std::string_view config_toml, std::vector<uint8_t> key);
  // A resumed run after `rounds` rounds, from `model` (its checkpoint's):
  // checks the chain and that it recorded `model` after those rounds, then
  // cuts it back to them and appends. An error (a changed checkpoint or
  // chain) leaves the file as it was. A folder whose run kept no audit.log
  // starts a new chain.
  Status Resume(const std::string& dir, uint32_t rounds, std::string_view config_toml, std::vector<uint8_t> key,
                std::span<const float> model);

  // The model the next round starts from.
  void Begin(std::span<const float> model);
  // An update the round accepted: its message bytes as received.
  void AddUpdate(uint32_t node, uint32_t round, std::span<const uint8_t> message);
  // The round's line. `direction` empty: the round made no step.
  Status Record(uint32_t round, double step_size, std::span<const double> direction, std::span<const float> model);
  // Flushes audit.log to the disk (with each checkpoint).
  Status Sync();
  ~AuditTrail();

 private:
  struct Update {
    uint32_t node;
    uint32_t round;
    Digest digest;
  };
  Status Append(const std::string& text);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<uint8_t> key_;
  Digest last_entry_{};
  std::optional<Digest> model_;  // the model the next round starts from
  std::vector<Update> updates_;
  std::string line_;
};

// What `edgefl verify` found (VerifyRun).
struct AuditReport {
  uint32_t rounds = 0;
  bool keyed = false;         // the chain is keyed
  bool macs_checked = false;  // and the key was given, so its MACs were checked
  bool model_checked = false;       // model.bin's values are the chain's last model
  bool checkpoint_checked = false;  // checkpoint.bin's model is the chain's at its round
  std::string last_model;     // hex
};

// One round as the chain recorded it.
struct AuditRound {
  bool stepped = false;  // it made a step
  std::string after;     // the model's digest after it, hex
};

// Reads dir/audit.log, checking it as VerifyRun does, into its rounds.
Status ReadAuditRounds(const std::string& dir, std::span<const uint8_t> key, std::vector<AuditRound>* rounds);

// Checks dir/audit.log link by link (with `key`, every MAC too), and that
// model.bin and checkpoint.bin, where present, hold the models the chain
// recorded. The error names the line or file and what does not match.
Status VerifyRun(const std::string& dir, std::span<const uint8_t> key, AuditReport* report);

}  // namespace edgefl
