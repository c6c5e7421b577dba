#include "runfiles/audit_trail.h"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "runfiles/atomic_file.h"
#include "runfiles/checkpoint.h"
#include "experiment/experiment_config.h"
#include "runfiles/model_file.h"
#include "runfiles/run_folder.h"
#include "runfiles/run_state.h"

namespace edgefl {
namespace {

constexpr const char* kMagic = "edgefl-audit";

// libsodium picks its fastest BLAKE2b for this CPU once; before that it
// uses the portable one, with the same digests.
void StartSodium() {
  static const bool started = sodium_init() >= 0;
  (void)started;
}
constexpr int kFormat = 1;

// One line of audit.log, read back.
struct Line {
  std::string text;
  std::map<std::string, std::string> fields;  // key=value pairs
};

// The line's own digest: of its text before " entry=".
Digest EntryDigest(std::string_view text_before_entry, std::span<const uint8_t> key) {
  return Blake2b({reinterpret_cast<const uint8_t*>(text_before_entry.data()), text_before_entry.size()}, key);
}

std::string KeyId(std::span<const uint8_t> key) {
  if (key.empty()) return "-";
  const Digest d = Blake2b(key);
  return ToHex(std::span<const uint8_t>(d).first(8));
}

Line Parse(const std::string& text) {
  Line line;
  line.text = text;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    const size_t eq = word.find('=');
    if (eq != std::string::npos) line.fields[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return line;
}

struct Chain {
  Line header;
  bool keyed = false;
  std::string key_id;
  std::string config;
  std::vector<Line> rounds;
};

// Reads `path` and checks every link; every line's digest too, where it can
// (an unkeyed chain, or a keyed one with its key).
Status ReadChain(const std::string& path, std::span<const uint8_t> key, Chain* chain) {
  std::vector<uint8_t> bytes;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  const std::string text(bytes.begin(), bytes.end());
  // Whole lines only: a line a crash cut short is dropped.
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  if (lines.empty()) return Status::Error(StatusCode::kMalformed, "%s: no header line", path.c_str());
  const Line header = Parse(lines[0]);
  chain->header = header;
  if (lines[0].rfind(std::string(kMagic) + " " + std::to_string(kFormat) + " ", 0) != 0) {
    return Status::Error(StatusCode::kMalformed, "%s: not an edgefl audit log of format %d", path.c_str(), kFormat);
  }
  chain->keyed = header.fields.count("keyed") != 0 && header.fields.at("keyed") == "1";
  chain->key_id = header.fields.count("key") != 0 ? header.fields.at("key") : "";
  chain->config = header.fields.count("config") != 0 ? header.fields.at("config") : "";
  const bool check_macs = !chain->keyed || !key.empty();
  if (chain->keyed && !key.empty() && KeyId(key) != chain->key_id) {
    return Status::Error(StatusCode::kInvalidArgument, "%s is keyed with key %s, not with the one given (%s)",
                         path.c_str(), chain->key_id.c_str(), KeyId(key).c_str());
  }
  std::string previous_entry, previous_after;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line line = i == 0 ? header : Parse(lines[i]);
    const size_t at = lines[i].rfind(" entry=");
    if (at == std::string::npos || line.fields.count("entry") == 0) {
      return Status::Error(StatusCode::kMalformed, "%s line %zu: no entry digest", path.c_str(), i + 1);
    }
    if (check_macs) {
      const Digest expected = EntryDigest(std::string_view(lines[i]).substr(0, at), chain->keyed ? key : std::span<const uint8_t>());
      if (ToHex(expected) != line.fields.at("entry")) {
        return Status::Error(StatusCode::kMalformed, "%s line %zu: its digest does not match its text: the line was "
                             "changed after it was written", path.c_str(), i + 1);
      }
    }
    if (i > 0) {
      const auto field = [&](const char* name) {
        const auto it = line.fields.find(name);
        return it == line.fields.end() ? std::string() : it->second;
      };
      if (field("round") != std::to_string(i - 1)) {
        return Status::Error(StatusCode::kMalformed, "%s line %zu: round %s where round %zu belongs", path.c_str(),
                             i + 1, field("round").c_str(), i - 1);
      }
      if (field("prev") != previous_entry) {
        return Status::Error(StatusCode::kMalformed, "%s line %zu (round %zu): it does not follow the line before it "
                             "(a line was changed, taken out or put in)", path.c_str(), i + 1, i - 1);
      }
      if (i > 1 && field("before") != previous_after) {
        return Status::Error(StatusCode::kMalformed, "%s line %zu (round %zu): its model before the step is not the "
                             "model the round before ended with", path.c_str(), i + 1, i - 1);
      }
      previous_after = field("after");
      chain->rounds.push_back(line);
    }
    previous_entry = line.fields.at("entry");
  }
  return Status::Ok();
}

}  // namespace

Digest Blake2b(std::span<const uint8_t> bytes, std::span<const uint8_t> key) {
  StartSodium();
  Digest out;
  crypto_generichash(out.data(), out.size(), bytes.data(), bytes.size(), key.empty() ? nullptr : key.data(),
                     key.size());
  return out;
}

Digest ModelDigest(std::span<const float> model) {
  static_assert(std::endian::native == std::endian::little, "model.bin holds little-endian floats");
  return Blake2b({reinterpret_cast<const uint8_t*>(model.data()), model.size_bytes()});
}

std::string ToHex(std::span<const uint8_t> bytes) {
  std::string text(2 * bytes.size() + 1, '\0');
  sodium_bin2hex(text.data(), text.size(), bytes.data(), bytes.size());
  text.pop_back();
  return text;
}

std::vector<uint8_t> AuditKeyFromSecret(const std::string& z85_secret_key) {
  StartSodium();
  const std::string personal = "edgefl audit key";
  std::vector<uint8_t> key(crypto_generichash_BYTES);
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, key.size());
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(personal.data()), personal.size());
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(z85_secret_key.data()), z85_secret_key.size());
  crypto_generichash_final(&state, key.data(), key.size());
  return key;
}

Status AuditTrail::Append(const std::string& text) {
  if (std::fputs(text.c_str(), file_) < 0 || std::fflush(file_) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path_.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status AuditTrail::Open(const std::string& dir, std::string_view config_toml, std::vector<uint8_t> key) {
  path_ = dir + "/" + kAuditFile;
  key_ = std::move(key);
  const Digest config = Blake2b({reinterpret_cast<const uint8_t*>(config_toml.data()), config_toml.size()});
  const std::string header = std::string(kMagic) + " " + std::to_string(kFormat) + " keyed=" +
                             (key_.empty() ? "0" : "1") + " key=" + KeyId(key_) + " config=" + ToHex(config);
  last_entry_ = EntryDigest(header, key_);
  file_ = std::fopen(path_.c_str(), "w");
  if (file_ == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path_.c_str(), std::strerror(errno));
  }
  return Append(header + " entry=" + ToHex(last_entry_) + "\n");
}

Status AuditTrail::Resume(const std::string& dir, uint32_t rounds, std::string_view config_toml,
                          std::vector<uint8_t> key, std::span<const float> model) {
  const std::string path = dir + "/" + kAuditFile;
  if (!std::filesystem::exists(path)) return Open(dir, config_toml, std::move(key));
  Chain chain;
  EDGEFL_RETURN_IF_ERROR(ReadChain(path, key, &chain));
  if (chain.keyed && key.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s is keyed with the coordinator's CURVE key: resume with "
                         "the same --key", path.c_str());
  }
  if (!chain.keyed && !key.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "%s is not keyed: the run was started without --key, resume "
                         "it without one", path.c_str());
  }
  if (chain.rounds.size() < rounds) {
    return Status::Error(StatusCode::kMalformed, "%s records %zu rounds, the checkpoint %u", path.c_str(),
                         chain.rounds.size(), rounds);
  }
  const Digest resumed_model = ModelDigest(model);
  if (rounds > 0 && chain.rounds[rounds - 1].fields["after"] != ToHex(resumed_model)) {
    return Status::Error(StatusCode::kMalformed, "checkpoint.bin's model after round %u is not the one %s recorded: "
                         "one of them was changed after the run wrote it", rounds - 1, path.c_str());
  }
  // The header and the rounds the checkpoint holds, written anew.
  std::string kept = chain.header.text + "\n";
  for (uint32_t r = 0; r < rounds; ++r) kept += chain.rounds[r].text + "\n";
  EDGEFL_RETURN_IF_ERROR(WriteFileAtomically(path, kept));
  path_ = path;
  key_ = std::move(key);
  const std::string& entry = (rounds == 0 ? chain.header : chain.rounds[rounds - 1]).fields["entry"];
  if (entry.size() != 64 || sodium_hex2bin(last_entry_.data(), last_entry_.size(), entry.c_str(), entry.size(),
                                           nullptr, nullptr, nullptr) != 0) {
    return Status::Error(StatusCode::kMalformed, "%s: an entry digest is not 64 hex digits", path.c_str());
  }
  if (rounds > 0) model_ = resumed_model;  // else Begin takes the x_0 the run starts from
  file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path_.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

void AuditTrail::Begin(std::span<const float> model) {
  if (!model_) model_ = ModelDigest(model);
  updates_.clear();
}

void AuditTrail::AddUpdate(uint32_t node, uint32_t round, std::span<const uint8_t> message) {
  updates_.push_back({node, round, Blake2b(message)});
}

Status AuditTrail::Record(uint32_t round, double step_size, std::span<const double> direction,
                          std::span<const float> model) {
  if (file_ == nullptr) return Status::Ok();
  const Digest before = model_.value_or(Digest{});
  const Digest after = ModelDigest(model);
  std::sort(updates_.begin(), updates_.end(), [](const Update& a, const Update& b) { return a.node < b.node; });
  line_ = "round=" + std::to_string(round) + " before=" + ToHex(before) + " updates=";
  for (size_t i = 0; i < updates_.size(); ++i) {
    line_ += (i == 0 ? "" : ",") + std::to_string(updates_[i].node) + ":" + std::to_string(updates_[i].round) + ":" +
             ToHex(updates_[i].digest);
  }
  if (updates_.empty()) line_ += "-";
  line_ += " step=";
  if (direction.empty()) {
    line_ += "-";
  } else {
    // The step size's f64 bytes, then the direction's, little-endian.
    StartSodium();
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
    crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(&step_size), sizeof(step_size));
    crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(direction.data()), direction.size_bytes());
    Digest step;
    crypto_generichash_final(&state, step.data(), step.size());
    line_ += ToHex(step);
  }
  line_ += " after=" + ToHex(after) + " prev=" + ToHex(last_entry_);
  last_entry_ = EntryDigest(line_, key_);
  model_ = after;
  updates_.clear();
  return Append(line_ + " entry=" + ToHex(last_entry_) + "\n");
}

Status AuditTrail::Sync() {
  if (file_ == nullptr) return Status::Ok();
  return SyncFile(file_, path_);
}

AuditTrail::~AuditTrail() {
  if (file_ != nullptr) std::fclose(file_);
}

Status ReadAuditRounds(const std::string& dir, std::span<const uint8_t> key, std::vector<AuditRound>* rounds) {
  Chain chain;
  EDGEFL_RETURN_IF_ERROR(ReadChain(dir + "/" + kAuditFile, key, &chain));
  rounds->clear();
  for (Line& line : chain.rounds) rounds->push_back({line.fields["step"] != "-", line.fields["after"]});
  return Status::Ok();
}

Status VerifyRun(const std::string& dir, std::span<const uint8_t> key, AuditReport* report) {
  const std::string path = dir + "/" + kAuditFile;
  Chain chain;
  EDGEFL_RETURN_IF_ERROR(ReadChain(path, key, &chain));
  report->rounds = static_cast<uint32_t>(chain.rounds.size());
  report->keyed = chain.keyed;
  report->macs_checked = !chain.keyed || !key.empty();
  // The config the chain starts from.
  std::vector<uint8_t> config;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(dir + "/" + kConfigFile, &config));
  if (ToHex(Blake2b(config)) != chain.config) {
    return Status::Error(StatusCode::kMalformed, "%s/%s is not the config the chain was started with", dir.c_str(),
                         kConfigFile);
  }
  const auto after_of = [&](uint32_t rounds) { return chain.rounds[rounds - 1].fields["after"]; };
  if (!chain.rounds.empty()) report->last_model = after_of(report->rounds);
  // model.bin: the last model of the chain.
  const std::string model_path = dir + "/" + kModelFile;
  if (std::filesystem::exists(model_path) && !chain.rounds.empty()) {
    std::vector<float> model;
    uint64_t hash = 0;
    EDGEFL_RETURN_IF_ERROR(ReadModelFile(model_path, &model, &hash));
    if (ToHex(ModelDigest(model)) != report->last_model) {
      return Status::Error(StatusCode::kMalformed, "%s does not hold the model the chain recorded after round %u: "
                           "it was changed after the run wrote it", model_path.c_str(), report->rounds - 1);
    }
    report->model_checked = true;
  }
  // checkpoint.bin: the model after its round.
  const std::string checkpoint_path = dir + "/" + kCheckpointFile;
  if (std::filesystem::exists(checkpoint_path)) {
    Checkpoint checkpoint;
    EDGEFL_RETURN_IF_ERROR(ReadCheckpointFile(checkpoint_path, &checkpoint));
    std::vector<ExperimentConfig> configs;
    EDGEFL_RETURN_IF_ERROR(LoadExperiments(checkpoint.config_toml, checkpoint_path, {}, &configs));
    RunState state(configs[0].objective.dimension, configs[0].nodes);
    StateReader in(checkpoint.state);
    EDGEFL_RETURN_IF_ERROR(state.Load(in));
    if (checkpoint.round > report->rounds) {
      return Status::Error(StatusCode::kMalformed, "%s is at round %u, the chain records %u rounds",
                           checkpoint_path.c_str(), checkpoint.round, report->rounds);
    }
    if (checkpoint.round > 0 && ToHex(ModelDigest(state.model)) != after_of(checkpoint.round)) {
      return Status::Error(StatusCode::kMalformed, "%s does not hold the model the chain recorded after round %u: it "
                           "was changed after the run wrote it", checkpoint_path.c_str(), checkpoint.round - 1);
    }
    report->checkpoint_checked = checkpoint.round > 0;
  }
  return Status::Ok();
}

}  // namespace edgefl
