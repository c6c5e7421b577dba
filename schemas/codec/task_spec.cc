#include "schemas/codec/task_spec.h"

#include <cmath>
#include <cstring>
#include <utility>

namespace edgefl::codec {
namespace {

constexpr KindName<wire::CompressorKind> kCompressorNames[] = {
    {wire::CompressorKind::Identity, "identity"},   {wire::CompressorKind::RandK, "rand-k"},
    {wire::CompressorKind::Bernoulli, "bernoulli"}, {wire::CompressorKind::Qsgd, "qsgd"},
    {wire::CompressorKind::Sign, "sign"},           {wire::CompressorKind::ScaledSign, "scaled-sign"},
    {wire::CompressorKind::EfSign, "ef-sign"},      {wire::CompressorKind::TopK, "top-k"},
    {wire::CompressorKind::Natural, "natural"},
};
constexpr KindName<wire::NoiseKind> kNoiseNames[] = {
    {wire::NoiseKind::None, "none"},
    {wire::NoiseKind::Gaussian, "gaussian"},
    {wire::NoiseKind::StudentT, "student-t"},
    {wire::NoiseKind::Affine, "affine"},
};
constexpr KindName<wire::ObjectiveKind> kObjectiveNames[] = {
    {wire::ObjectiveKind::Quadratic, "quadratic"},
    {wire::ObjectiveKind::Quartic, "quartic"},
    {wire::ObjectiveKind::Logistic, "logistic"},
    {wire::ObjectiveKind::Mlp, "mlp"},
    {wire::ObjectiveKind::Cosh, "cosh"},
};
constexpr KindName<wire::PartitionKind> kPartitionNames[] = {
    {wire::PartitionKind::Iid, "iid"},
    {wire::PartitionKind::Dirichlet, "dirichlet"},
};
constexpr KindName<wire::SpectrumKind> kSpectrumNames[] = {
    {wire::SpectrumKind::Linear, "linear"},
    {wire::SpectrumKind::Geometric, "geometric"},
};

constexpr KindName<wire::LinkShaping> kLinkShapingNames[] = {
    {wire::LinkShaping::None, "none"},
    {wire::LinkShaping::TokenBucket, "token-bucket"},
    {wire::LinkShaping::Kernel, "kernel"},
};

constexpr KindName<wire::LocalOptimizer> kLocalOptimizerNames[] = {
    {wire::LocalOptimizer::Sgd, "sgd"},
    {wire::LocalOptimizer::Momentum, "momentum"},
    {wire::LocalOptimizer::Nesterov, "nesterov"},
    {wire::LocalOptimizer::Adam, "adam"},
    {wire::LocalOptimizer::Scaffold, "scaffold"},
};

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

std::span<const KindName<wire::CompressorKind>> CompressorNames() { return kCompressorNames; }
std::span<const KindName<wire::NoiseKind>> NoiseNames() { return kNoiseNames; }
std::span<const KindName<wire::ObjectiveKind>> ObjectiveNames() { return kObjectiveNames; }
std::span<const KindName<wire::SpectrumKind>> SpectrumNames() { return kSpectrumNames; }
std::span<const KindName<wire::PartitionKind>> PartitionNames() { return kPartitionNames; }
std::span<const KindName<wire::LinkShaping>> LinkShapingNames() { return kLinkShapingNames; }
std::span<const KindName<wire::LocalOptimizer>> LocalOptimizerNames() { return kLocalOptimizerNames; }

const char* CompressorName(wire::CompressorKind kind) { return NameIn(CompressorNames(), kind); }
bool ParseCompressorName(const char* name, wire::CompressorKind* kind) { return KindIn(CompressorNames(), name, kind); }
const char* NoiseName(wire::NoiseKind kind) { return NameIn(NoiseNames(), kind); }
bool ParseNoiseName(const char* name, wire::NoiseKind* kind) { return KindIn(NoiseNames(), name, kind); }
const char* ObjectiveName(wire::ObjectiveKind kind) { return NameIn(ObjectiveNames(), kind); }
bool ParseObjectiveName(const char* name, wire::ObjectiveKind* kind) { return KindIn(ObjectiveNames(), name, kind); }
const char* SpectrumName(wire::SpectrumKind kind) { return NameIn(SpectrumNames(), kind); }
bool ParseSpectrumName(const char* name, wire::SpectrumKind* kind) { return KindIn(SpectrumNames(), name, kind); }
const char* PartitionName(wire::PartitionKind kind) { return NameIn(PartitionNames(), kind); }
bool ParsePartitionName(const char* name, wire::PartitionKind* kind) { return KindIn(PartitionNames(), name, kind); }
const char* LinkShapingName(wire::LinkShaping shaping) { return NameIn(LinkShapingNames(), shaping); }

namespace {

// The link's figures: NaN, negative and absurd values are refused whatever
// the shaping (they also feed `edgefl predict`), and a shaped link needs a
// rate each way.
Status ValidateLinkSpec(const LinkSpec& l) {
  const auto bad = [](const char* format, auto... args) {
    return Status::Error(StatusCode::kInvalidArgument, format, args...);
  };
  const char* shaping = LinkShapingName(l.shaping);
  if (std::strcmp(shaping, "unknown") == 0) return bad("link.shaping: unknown shaping %u", static_cast<unsigned>(l.shaping));
  const bool shaped = l.shaping != wire::LinkShaping::None;
  const double least_bps = shaped ? kMinShapedLinkBps : 0.0;
  for (const auto& [key, bps] : {std::pair{"link.uplink_bps", l.uplink_bps}, std::pair{"link.downlink_bps", l.downlink_bps}}) {
    if (!(bps >= least_bps && bps <= kMaxLinkBps)) {  // NaN fails too
      if (shaped && bps == 0.0) {
        return bad("%s = 0: link.shaping = \"%s\" needs a rate each way: give link.uplink_bps or link.preset", key,
                   shaping);
      }
      return bad("%s = %g: must be in [%g, %g] bits a second%s", key, bps, least_bps, kMaxLinkBps,
                 shaped ? " on a shaped link" : "");
    }
  }
  if (!(l.latency_ms >= 0.0 && l.latency_ms <= kMaxLinkMs)) {
    return bad("link.latency_ms = %g: must be in [0, %g]", l.latency_ms, kMaxLinkMs);
  }
  if (!(l.compute_ms >= 0.0 && l.compute_ms <= kMaxLinkMs)) {
    return bad("link.compute_ms = %g: must be in [0, %g]", l.compute_ms, kMaxLinkMs);
  }
  if (!(l.duty_cycle > 0.0 && l.duty_cycle <= 1.0)) {
    return bad("link duty cycle = %g: must be in (0, 1]", l.duty_cycle);
  }
  return Status::Ok();
}

// The local optimiser's and privacy's figures (each range as its config key
// states it).
Status ValidateTraining(const LocalSpec& l, const PrivacySpec& p) {
  const auto bad = [](const char* format, auto... args) {
    return Status::Error(StatusCode::kInvalidArgument, format, args...);
  };
  if (l.steps < 1 || l.steps > kMaxLocalSteps) {
    return bad("local.steps = %u: must be in [1, %u]", l.steps, kMaxLocalSteps);
  }
  if (!(l.lr > 0.0 && l.lr <= 1e6)) return bad("local.lr = %g: must be in (0, 1e6]", l.lr);
  if (std::strcmp(NameIn(LocalOptimizerNames(), l.optimizer), "unknown") == 0) {
    return bad("local.optimizer: unknown optimizer %u", static_cast<unsigned>(l.optimizer));
  }
  if (!(l.momentum >= 0.0 && l.momentum < 1.0)) return bad("local.momentum = %g: must be in [0, 1)", l.momentum);
  if (!(l.beta2 >= 0.0 && l.beta2 < 1.0)) return bad("local.beta2 = %g: must be in [0, 1)", l.beta2);
  if (!(l.epsilon > 0.0 && l.epsilon <= 1.0)) return bad("local.epsilon = %g: must be in (0, 1]", l.epsilon);
  if (!(l.prox_mu >= 0.0 && l.prox_mu <= 1e6)) return bad("local.prox_mu = %g: must be in [0, 1e6]", l.prox_mu);
  if (!(p.clip_norm >= 0.0 && p.clip_norm <= 1e12)) {
    return bad("privacy.clip_norm = %g: must be in [0, 1e12]", p.clip_norm);
  }
  if (!(p.noise_multiplier >= 0.0 && p.noise_multiplier <= 1e6)) {
    return bad("privacy.noise_multiplier = %g: must be in [0, 1e6]", p.noise_multiplier);
  }
  if (p.noise_multiplier > 0.0 && p.clip_norm == 0.0) {
    return bad("privacy.noise_multiplier = %g needs privacy.clip_norm > 0: the noise is scaled by the clip norm",
               p.noise_multiplier);
  }
  return Status::Ok();
}

}  // namespace

Status ValidateTaskSpec(const TaskSpec& spec) {
  const auto bad = [](const char* format, auto... args) {
    return Status::Error(StatusCode::kInvalidArgument, format, args...);
  };
  const ObjectiveSpec& o = spec.objective;
  if (std::strcmp(ObjectiveName(o.kind), "unknown") == 0) return bad("objective.kind: unknown objective");
  if (o.dimension < 1 || o.dimension > kMaxDimension) {
    return bad("objective.dimension = %u: must be in [1, %u]", o.dimension, kMaxDimension);
  }
  if (std::strcmp(SpectrumName(o.spectrum), "unknown") == 0) return bad("objective.spectrum: unknown spectrum");
  if (!Finite(o.lambda_min) || o.lambda_min <= 0.0) {
    return bad("objective.lambda_min = %g: must be finite and > 0", o.lambda_min);
  }
  if (!Finite(o.lambda_max) || o.lambda_max < o.lambda_min) {
    return bad("objective.lambda_max = %g: must be finite and >= objective.lambda_min = %g", o.lambda_max,
               o.lambda_min);
  }
  if (!Finite(o.cosh_scale) || o.cosh_scale <= 0.0 || o.cosh_scale > 1e3) {
    return bad("objective.cosh_scale = %g: must be in (0, 1000]", o.cosh_scale);
  }
  if (!Finite(o.initial_value) || std::fabs(o.initial_value) > 1e6) {
    return bad("objective.initial_value = %g: must be finite with magnitude <= 1e6", o.initial_value);
  }
  if (IsDataObjective(o.kind)) {
    if (o.dataset[0] == '\0' || std::memchr(o.dataset, '\0', sizeof(o.dataset)) == nullptr) {
      return bad("objective.dataset: a data set name is needed for objective.kind = \"%s\"", ObjectiveName(o.kind));
    }
    if (o.kind == wire::ObjectiveKind::Mlp && (o.hidden < 1 || o.hidden > 4096)) {
      return bad("objective.hidden = %u: must be in [1, 4096]", o.hidden);
    }
    if (std::strcmp(PartitionName(o.partition), "unknown") == 0) return bad("objective.partition: unknown partition");
    if (!Finite(o.dirichlet_alpha) || o.dirichlet_alpha <= 0.0 || o.dirichlet_alpha > 1e6) {
      return bad("objective.dirichlet_alpha = %g: must be in (0, 1e6]", o.dirichlet_alpha);
    }
    if (!Finite(o.test_fraction) || o.test_fraction < 0.05 || o.test_fraction > 0.9) {
      return bad("objective.test_fraction = %g: must be in [0.05, 0.9]", o.test_fraction);
    }
  }

  const NoiseSpec& n = spec.noise;
  if (std::strcmp(NoiseName(n.kind), "unknown") == 0) return bad("noise.kind: unknown noise");
  if (!Finite(n.sigma) || n.sigma < 0.0) return bad("noise.sigma = %g: must be finite and >= 0", n.sigma);
  if (!Finite(n.nu) || n.nu < 0.5 || n.nu > 1e6) return bad("noise.nu = %g: must be in [0.5, 1e6]", n.nu);
  if (!Finite(n.sigma1) || n.sigma1 < 0.0) return bad("noise.sigma1 = %g: must be finite and >= 0", n.sigma1);
  if (spec.batch_size < 1 || spec.batch_size > (1u << 24)) {
    return bad("noise.batch_size = %u: must be in [1, 16777216]", spec.batch_size);
  }

  const CompressorSpec& c = spec.compressor;
  if (std::strcmp(CompressorName(c.kind), "unknown") == 0) return bad("compressor.kind: unknown compressor");
  switch (c.kind) {
    case wire::CompressorKind::RandK:
    case wire::CompressorKind::TopK:
      if (c.k < 1 || c.k > o.dimension) {
        return bad("compressor.k = %u: must be in [1, objective.dimension = %u]", c.k, o.dimension);
      }
      break;
    case wire::CompressorKind::Bernoulli:
      if (!(c.p > 0.0 && c.p <= 1.0)) return bad("compressor.p = %g: must be in (0, 1]", c.p);
      break;
    case wire::CompressorKind::Qsgd:
      if (c.levels < 1 || c.levels > kMaxQsgdLevels) {
        return bad("compressor.levels = %u: must be in [1, %u]", c.levels, kMaxQsgdLevels);
      }
      break;
    case wire::CompressorKind::Identity:
    case wire::CompressorKind::Natural:
    case wire::CompressorKind::Sign:
    case wire::CompressorKind::ScaledSign:
    case wire::CompressorKind::EfSign:
      break;
  }

  if (spec.num_nodes < 1 || spec.num_nodes > (uint32_t{1} << 20)) {
    return bad("run.nodes = %u: must be in [1, 2^20]", spec.num_nodes);
  }
  if (spec.node_index >= spec.num_nodes) {
    return bad("node index %u: must be below run.nodes = %u", spec.node_index, spec.num_nodes);
  }
  EDGEFL_RETURN_IF_ERROR(ValidateTraining(spec.local, spec.privacy));
  return ValidateLinkSpec(spec.link);
}

}  // namespace edgefl::codec
