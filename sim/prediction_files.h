// The files `edgefl run --predict` and `edgefl predict --out` write beside a
// run's own (docs/outputs.md):
//   predicted.csv   one row a round: round,time_s,bytes_up,mean_loss,
//                   low_loss,high_loss,grad_norm,step_size (time_s the
//                   expected end of the round, empty without a [link]
//                   bandwidth; bytes_up the round's, every asked node's);
//   agreement.toml  the forecast against the run (sim/agreement.h): the loss,
//                   and in [time] the seconds a round and to the target.
// And the reader of a run's per-round losses and times from its metrics.csv.
#pragma once

#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "core/status.h"
#include "sim/agreement.h"
#include "sim/round_cost.h"
#include "sim/sde_predictor.h"

namespace edgefl {

Status WritePredictionCsv(const std::string& dir, const Prediction& prediction, const RoundCost& cost);

Status WriteAgreementToml(const std::string& dir, const PredictOptions& options, const Prediction& prediction,
                          const Agreement& agreement, const TimeAgreement& time);

// The `loss` and `time_s` columns of `path` (a metrics.csv), in round order.
Status ReadMetricsLosses(const std::string& path, std::vector<double>* losses, std::vector<double>* times);

}  // namespace edgefl
