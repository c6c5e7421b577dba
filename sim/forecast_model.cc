#include "sim/forecast_model.h"

#include <cmath>

#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "strategy/step_rule.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

Status Unsupported(const char* what) {
  return Status::Error(StatusCode::kInvalidArgument, "edgefl predict does not model %s yet", what);
}

}  // namespace

Status ChooseForecastModel(const ExperimentConfig& c, ForecastModel* model) {
  // A buffered step takes gradients of models up to s versions old: the
  // iteration with its delays, where each update is a noisy gradient of the
  // quadratic, compressed without bias or not at all (docs/theory.md 7.3).
  if (c.async.Buffered()) {
    const char* missing = nullptr;
    if (c.objective.kind != wire::ObjectiveKind::Quadratic) {
      missing = "an objective other than the quadratic";
    } else if (c.noise.kind != wire::NoiseKind::Gaussian && c.noise.kind != wire::NoiseKind::None) {
      missing = "noise other than gaussian";
    } else if (!std::isfinite(CompressorOmega(c.compressor, c.objective.dimension)) ||
               c.aggregator.kind != AggregatorKind::kMean) {
      missing = "a biased compressor (sign, scaled-sign, ef-sign, top-k) or a sign vote";
    } else if (c.aggregator.max_update_norm > 0.0) {
      missing = "norm bounding (aggregator.max_update_norm)";
    } else if (c.server.optimizer != ServerOptimizerKind::kSgd || UsesNormEstimate(c.step.rule)) {
      missing = "a server optimiser or a normalising step rule";
    } else if (!SendsPlainGradient(c)) {
      missing = "local steps, clipping or privacy";
    }
    if (missing != nullptr) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "edgefl predict does not model buffered runs with %s: it takes the delayed iteration "
                           "on the quadratic with gaussian noise and unbiased compressors (docs/theory.md 7.3)",
                           missing);
    }
    *model = ForecastModel::kBuffered;
    return Status::Ok();
  }
  // Local training and privacy change what a node sends (docs/theory.md 6).
  if (c.privacy.clip_norm > 0.0 || c.privacy.mode != PrivacyMode::kOff) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "edgefl predict does not model privacy: clipping (privacy.clip_norm = %g) scales each update "
                         "by a factor of its own norm, which is not the affine noise the SDE takes, and the DP noise "
                         "comes with it (docs/theory.md 6.3)",
                         c.privacy.clip_norm);
  }
  if (c.local.steps > 1 || c.local.optimizer != wire::LocalOptimizer::Sgd || c.local.prox_mu > 0.0) {
    // E sgd steps on the quadratic with Gaussian noise and dense updates are
    // one linear step with Gaussian noise; elsewhere a node's sum of
    // directions follows its own nonlinear path.
    const char* missing = nullptr;
    if (c.local.optimizer != wire::LocalOptimizer::Sgd) {
      missing = "a local optimiser other than sgd";
    } else if (c.local.prox_mu > 0.0) {
      missing = "FedProx's proximal term";
    } else if (c.objective.kind != wire::ObjectiveKind::Quadratic) {
      missing = "local steps on an objective other than the quadratic";
    } else if (c.noise.kind != wire::NoiseKind::Gaussian && c.noise.kind != wire::NoiseKind::None) {
      missing = "local steps with noise other than gaussian";
    } else if (c.compressor.kind != Kind::Identity || c.aggregator.kind != AggregatorKind::kMean) {
      missing = "local steps with a compressor or a robust aggregator";
    } else if (UsesNormEstimate(c.step.rule)) {
      missing = "local steps with a normalising step rule";
    }
    if (missing != nullptr) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "edgefl predict does not model %s (local.steps = %u, local.optimizer = \"%s\"): a node's "
                           "sum of directions then follows its own path, which neither the SDE nor the iteration model "
                           "follows; it models E sgd steps on the quadratic with gaussian noise and dense updates, "
                           "exactly (docs/theory.md 6.1)",
                           missing, c.local.steps, codec::NameIn(codec::LocalOptimizerNames(), c.local.optimizer));
    }
    *model = ForecastModel::kLocalSgd;
    return Status::Ok();
  }
  const bool momentum = c.server.optimizer == ServerOptimizerKind::kMomentum;
  if (c.server.optimizer != ServerOptimizerKind::kSgd && !momentum) {
    return Unsupported("the adaptive server optimisers (adagrad, adam, yogi)");
  }
  if (momentum && codec::IsDataObjective(c.objective.kind)) return Unsupported("momentum on a data objective");
  if (c.aggregator.max_update_norm > 0.0) return Unsupported("norm bounding (aggregator.max_update_norm)");
  if (codec::IsDataObjective(c.objective.kind)) {
    // sim/data_sde.h: the data's own noise, for the DCSGD family.
    const bool votes = c.aggregator.kind == AggregatorKind::kSignMean || c.aggregator.kind == AggregatorKind::kMajority;
    if (c.aggregator.kind != AggregatorKind::kMean && !votes) return Unsupported("the robust aggregators");
    if (UsesNormEstimate(c.step.rule)) return Unsupported("the normalising step rules on a data objective");
    if (!std::isfinite(NoiseVariance(c.noise, c.batch_size))) return Unsupported("infinite-variance noise on a data objective");
    *model = ForecastModel::kData;
    return Status::Ok();
  }
  switch (c.compressor.kind) {
    case Kind::Identity:
    case Kind::RandK:
    case Kind::Bernoulli:
    case Kind::Qsgd:
    case Kind::Natural:
      if (c.aggregator.kind != AggregatorKind::kMean) return Unsupported("this aggregator with this compressor");
      if (!std::isfinite(NoiseVariance(c.noise, c.batch_size))) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "noise.nu = %g: student-t noise with nu <= 2 has infinite variance, so DSGD and DCSGD "
                             "have no SDE (and no finite floor; docs/theory.md 3.5)",
                             c.noise.nu);
      }
      *model = ForecastModel::kDcsgd;
      return Status::Ok();
    case Kind::Sign:
      if (KeepsEveryUpdate(c.aggregator.kind)) return Unsupported("this aggregator with sign");
      *model = c.aggregator.kind == AggregatorKind::kMajority ? ForecastModel::kMajority : ForecastModel::kSignMean;
      return Status::Ok();
    case Kind::ScaledSign:
      if (c.aggregator.kind != AggregatorKind::kMean) return Unsupported("this aggregator with scaled-sign");
      *model = ForecastModel::kScaledSign;
      return Status::Ok();
    case Kind::EfSign:
    case Kind::TopK:
      if (c.aggregator.kind != AggregatorKind::kMean) return Unsupported("this aggregator with error feedback");
      if (!std::isfinite(NoiseVariance(c.noise, c.batch_size))) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "noise.nu = %g: student-t noise with nu <= 2 has infinite variance, and the error-feedback "
                             "model is DSGD's SDE, which then does not exist",
                             c.noise.nu);
      }
      *model = ForecastModel::kErrorFeedback;
      return Status::Ok();
  }
  return Unsupported("this compressor");
}

}  // namespace edgefl
