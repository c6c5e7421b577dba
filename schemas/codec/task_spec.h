// The task a coordinator hands each node in Welcome: objective, gradient
// noise, compressor, batch size and seeds. Plain values; the field names are
// the config keys of the same name (docs/config.md), so one validator serves
// a config file and a Welcome read off the wire.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "core/status.h"
#include "schemas/edgefl_generated.h"

namespace edgefl::codec {

struct ObjectiveSpec {
  wire::ObjectiveKind kind = wire::ObjectiveKind::Quadratic;
  uint32_t dimension = 0;
  wire::SpectrumKind spectrum = wire::SpectrumKind::Linear;
  double lambda_min = 1.0;
  double lambda_max = 1.0;
  double initial_value = 1.0;
  // Data objectives (logistic, mlp) only:
  char dataset[32] = "";
  uint32_t hidden = 0;
  wire::PartitionKind partition = wire::PartitionKind::Iid;
  double dirichlet_alpha = 0.5;
  double test_fraction = 0.2;
  // Cosh only: a in sum_j lambda_j (cosh(a x_j) - 1) / a^2.
  double cosh_scale = 1.0;

  bool operator==(const ObjectiveSpec&) const = default;
};

// True for objectives that learn from a data set.
inline bool IsDataObjective(wire::ObjectiveKind kind) {
  switch (kind) {
    case wire::ObjectiveKind::Quadratic:
    case wire::ObjectiveKind::Quartic:
    case wire::ObjectiveKind::Cosh:
      return false;
    case wire::ObjectiveKind::Logistic:
    case wire::ObjectiveKind::Mlp:
      return true;
  }
  return false;
}

struct NoiseSpec {
  wire::NoiseKind kind = wire::NoiseKind::Gaussian;
  double sigma = 1.0;
  double nu = 3.0;
  double sigma1 = 0.0;  // Affine

  bool operator==(const NoiseSpec&) const = default;
};

struct CompressorSpec {
  wire::CompressorKind kind = wire::CompressorKind::Identity;
  uint32_t k = 0;       // RandK, TopK
  double p = 1.0;       // Bernoulli
  uint32_t levels = 1;  // Qsgd

  bool operator==(const CompressorSpec&) const = default;
};

// The node's link ([link] in the config, resolved: the preset's figures in
// place of zeros). The node makes its traffic cross it (node/node_link.h).
struct LinkSpec {
  wire::LinkShaping shaping = wire::LinkShaping::None;
  double uplink_bps = 0.0;
  double downlink_bps = 0.0;
  double latency_ms = 0.0;  // one way
  double compute_ms = 0.0;  // the least a round's computation takes
  double duty_cycle = 1.0;  // LoRaWAN: 0.01

  bool operator==(const LinkSpec&) const = default;
};

// How a node trains in a round ([local] in the config; docs/protocol.md
// 7.1): `steps` local steps of `optimizer` at step size `lr`, sending the
// sum of the steps' directions. steps = 1 with sgd is one plain gradient.
struct LocalSpec {
  uint32_t steps = 1;
  double lr = 0.1;
  wire::LocalOptimizer optimizer = wire::LocalOptimizer::Sgd;
  double momentum = 0.9;  // momentum, nesterov; adam's beta1
  double beta2 = 0.999;   // adam
  double epsilon = 1e-8;  // adam
  double prox_mu = 0.0;   // FedProx: mu/2 ||x - x_0||^2 added to each step's objective
  bool keep_state = false;

  bool operator==(const LocalSpec&) const = default;
  // True when the node holds optimiser moments (momentum, nesterov, adam).
  bool HasMoments() const {
    return optimizer != wire::LocalOptimizer::Sgd && optimizer != wire::LocalOptimizer::Scaffold;
  }
  // SCAFFOLD: control variates travel both ways.
  bool HasControl() const { return optimizer == wire::LocalOptimizer::Scaffold; }
};

// Differential privacy at the node: the update is clipped to L2 norm
// clip_norm (0: not clipped), then takes Gaussian noise of standard
// deviation noise_multiplier * clip_norm per coordinate (local DP; 0 under
// central DP, whose noise the coordinator adds).
struct PrivacySpec {
  double clip_norm = 0.0;
  double noise_multiplier = 0.0;

  bool operator==(const PrivacySpec&) const = default;
};

struct TaskSpec {
  ObjectiveSpec objective;
  NoiseSpec noise;
  CompressorSpec compressor;
  uint32_t batch_size = 1;
  uint64_t seed = 0;
  uint32_t node_index = 0;
  uint32_t num_nodes = 1;
  LinkSpec link;
  LocalSpec local;
  PrivacySpec privacy;

  bool operator==(const TaskSpec&) const = default;
};

// Largest dimension a run may declare (indices are u32; 2^28 f32 = 1 GiB).
inline constexpr uint32_t kMaxDimension = 1u << 28;
// Most local steps a round (each a gradient of the node's objective).
inline constexpr uint32_t kMaxLocalSteps = 10000;
// Largest QSGD level count: levels travel in at most 16 bits.
inline constexpr uint32_t kMaxQsgdLevels = 65535;
// Link figures a task may carry: rates up to 1 Tb/s (and at least 1 b/s
// when shaped), latency and compute up to an hour.
inline constexpr double kMaxLinkBps = 1e12;
inline constexpr double kMinShapedLinkBps = 1.0;
inline constexpr double kMaxLinkMs = 3.6e6;

// Checks every field against its allowed range; the message names the key,
// e.g. "compressor.k = 0: must be in [1, objective.dimension = 100]".
Status ValidateTaskSpec(const TaskSpec& spec);

// A kind and its name in config files and messages: "rand-k", "gaussian", ...
template <typename Kind>
struct KindName {
  Kind kind;
  const char* name;
};

// Every kind of each enum with its name, in the schema's order.
std::span<const KindName<wire::CompressorKind>> CompressorNames();
std::span<const KindName<wire::NoiseKind>> NoiseNames();
std::span<const KindName<wire::ObjectiveKind>> ObjectiveNames();
std::span<const KindName<wire::SpectrumKind>> SpectrumNames();
std::span<const KindName<wire::PartitionKind>> PartitionNames();
std::span<const KindName<wire::LinkShaping>> LinkShapingNames();
std::span<const KindName<wire::LocalOptimizer>> LocalOptimizerNames();

// The name of a kind ("unknown" for a value outside the table), and the
// kind of a name (false for an unknown name).
template <typename Kind>
const char* NameIn(std::span<const KindName<Kind>> table, Kind kind) {
  for (const auto& entry : table) {
    if (entry.kind == kind) return entry.name;
  }
  return "unknown";
}
template <typename Kind>
bool KindIn(std::span<const KindName<Kind>> table, const char* name, Kind* kind) {
  for (const auto& entry : table) {
    if (std::strcmp(entry.name, name) == 0) {
      *kind = entry.kind;
      return true;
    }
  }
  return false;
}

const char* CompressorName(wire::CompressorKind kind);
bool ParseCompressorName(const char* name, wire::CompressorKind* kind);
const char* NoiseName(wire::NoiseKind kind);
bool ParseNoiseName(const char* name, wire::NoiseKind* kind);
const char* ObjectiveName(wire::ObjectiveKind kind);
bool ParseObjectiveName(const char* name, wire::ObjectiveKind* kind);
const char* SpectrumName(wire::SpectrumKind kind);
bool ParseSpectrumName(const char* name, wire::SpectrumKind* kind);
const char* PartitionName(wire::PartitionKind kind);
bool ParsePartitionName(const char* name, wire::PartitionKind* kind);
const char* LinkShapingName(wire::LinkShaping shaping);

}  // namespace edgefl::codec
