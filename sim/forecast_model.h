// ForecastModel: which of edgefl predict's path models a config takes
// (docs/theory.md 3 and 6.1), chosen once, or why none fits.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "experiment/experiment_config.h"

namespace edgefl {

// kDcsgd also models error feedback (ef-sign, top-k) by its virtual iterate;
// the sign family (mean of signs, majority vote, scaled signs) shares one
// step from each coordinate's aggregate mean and variance; kData steps a data
// objective from its own minibatch noise; kLocalSgd takes E local sgd steps on
// the quadratic as one exact linear step a round (sim/local_steps.h); kBuffered
// steps a buffered run's iteration with its delays (sim/buffered_forecast.h).
enum class ForecastModel : uint8_t {
  kDcsgd,
  kErrorFeedback,
  kSignMean,
  kMajority,
  kScaledSign,
  kData,
  kLocalSgd,
  kBuffered,
};

inline bool IsSignFamily(ForecastModel m) {
  return m == ForecastModel::kSignMean || m == ForecastModel::kMajority || m == ForecastModel::kScaledSign;
}

// The model `config` takes; an error naming what no model covers.
Status ChooseForecastModel(const ExperimentConfig& config, ForecastModel* model);

}  // namespace edgefl
